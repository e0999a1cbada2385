package serve

import (
	"context"
	"errors"
	"time"

	"github.com/fsnotify/fsnotify"
)

// settle is how long the watcher waits after a change for more before it
// scans (a cp writes a file in many events).
const settle = 200 * time.Millisecond

// watch scans the folders again after every change fsnotify reports
// (settled) and every Options.Rescan, until ctx ends or Close is called.
// Without fsnotify (an error starting it, or a file system that loses
// inotify events), the periodic rescan alone finds the changes.
func (r *Reg) watch(ctx context.Context) {
	var events <-chan fsnotify.Event
	var errs <-chan error
	var w *fsnotify.Watcher
	err := errors.New("turned off (Options.NoNotify)")
	if !r.opt.NoNotify {
		w, err = fsnotify.NewWatcher()
	}
	if err != nil {
		r.log.Warn("serve: no fsnotify; rescanning the folders periodically only", "every", r.opt.Rescan, "err", err)
	} else {
		defer w.Close()
		for _, dir := range []string{r.opt.Models, r.opt.Plugins} {
			if dir == "" {
				continue
			}
			if err := w.Add(dir); err != nil {
				r.log.Warn("serve: cannot watch the folder; rescanning it periodically only", "dir", dir, "every", r.opt.Rescan, "err", err)
			}
		}
		events, errs = w.Events, w.Errors
	}
	tick := time.NewTicker(r.opt.Rescan)
	defer tick.Stop()
	var due <-chan time.Time // a scan after the events settle
	for {
		scan := false
		select {
		case <-ctx.Done():
			return
		case <-events:
			if due == nil {
				due = time.After(settle)
			}
		case err := <-errs:
			r.log.Warn("serve: fsnotify", "err", err)
		case <-due:
			due, scan = nil, true
		case <-tick.C:
			scan = due == nil // else the settled scan comes soon
		}
		if !scan {
			continue
		}
		if r.isClosing() {
			return
		}
		r.Scan()
	}
}
