package atomicfile

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// guard removes the named temporary files of writes in progress when the
// process gets SIGINT or SIGTERM, then raises the signal again. Its
// handler is installed only while such a file exists, so it changes
// nothing for a program that is not writing.
var guard struct {
	mu    sync.Mutex
	names map[string]bool
	ch    chan os.Signal
}

func track(name string) {
	guard.mu.Lock()
	defer guard.mu.Unlock()
	if guard.names == nil {
		guard.names = map[string]bool{}
	}
	guard.names[name] = true
	if guard.ch == nil {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
		guard.ch = ch
		go onSignal(ch)
	}
}

func untrack(name string) {
	guard.mu.Lock()
	defer guard.mu.Unlock()
	delete(guard.names, name)
	if len(guard.names) == 0 && guard.ch != nil {
		signal.Stop(guard.ch)
		close(guard.ch)
		guard.ch = nil
	}
}

func onSignal(ch chan os.Signal) {
	sig, ok := <-ch
	if !ok {
		return
	}
	guard.mu.Lock()
	for name := range guard.names {
		os.Remove(name)
	}
	clear(guard.names)
	if guard.ch == ch {
		signal.Stop(ch)
		guard.ch = nil
	}
	guard.mu.Unlock()
	raise(sig)
}
