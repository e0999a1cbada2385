package sdk

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// pinByDescriptor reports whether a binary can be executed through its open
// descriptor (/proc/self/fd/N): /proc is mounted.
var pinByDescriptor = sync.OnceValue(func() bool {
	fi, err := os.Stat("/proc/self/fd")
	return err == nil && fi.IsDir()
})

// setPdeathsig asks the kernel to SIGKILL the plugin when the thread that
// started it ends (startProcess keeps that thread for the host's life).
func setPdeathsig(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }

// starter runs every plugin start on one goroutine locked to its OS thread
// for the life of the host: the parent-death signal fires when the
// starting thread ends, not the process, and Go may end a thread (one a
// goroutine locked and left), so the thread that forks must be one that
// lasts.
var starter = sync.OnceValue(func() chan func() {
	ch := make(chan func())
	go func() {
		runtime.LockOSThread() // never unlocked: the thread lives as long as the host
		for f := range ch {
			f()
		}
	}()
	return ch
})

// startProcess starts cmd on the starter thread.
func startProcess(cmd *exec.Cmd) error {
	errc := make(chan error, 1)
	starter() <- func() { errc <- cmd.Start() }
	return <-errc
}

// waitExited blocks until pid has exited, without reaping it.
func waitExited(pid int) bool {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, unix.EINTR) {
			return err == nil
		}
	}
}
