package engine

import (
	"sync/atomic"
	"testing"
)

// unitTask counts how often each unit ran.
type unitTask struct{ runs []atomic.Int32 }

func (u *unitTask) RunRange(lo, hi int) {
	for i := lo; i < hi; i++ {
		u.runs[i].Add(1)
	}
}

func (u *unitTask) check(t *testing.T, what string) {
	t.Helper()
	for i := range u.runs {
		if r := u.runs[i].Load(); r != 1 {
			t.Fatalf("%s: unit %d ran %d times", what, i, r)
		}
	}
}

// A worker that has not arrived when the units run out does not hold Do
// up: the caller runs every unit and takes the post back; the worker,
// when it comes, runs nothing of that job and takes part in the next.
func TestPoolLateWorker(t *testing.T) {
	p := &pool{n: 2, shares: make([]share, 2)}
	w := &worker{wake: make(chan struct{}, 1)}
	p.workers = append(p.workers, w) // its goroutine is not running yet
	defer p.close()
	for round := range 3 {
		u := &unitTask{runs: make([]atomic.Int32, 9)}
		p.Do(len(u.runs), u) // returns although no worker ever comes
		u.check(t, "no worker")
		if c := w.claim.Load(); c != claimStolen {
			t.Fatalf("round %d: the post's claim is %d, want taken back (%d)", round, c, claimStolen)
		}
	}
	go p.run(w)
	for round := range 200 {
		u := &unitTask{runs: make([]atomic.Int32, 1+round%7)}
		p.Do(len(u.runs), u)
		u.check(t, "with the worker")
	}
	// The measurement of the hand-off waits for the worker.
	if d := p.HandOff(); d <= 0 {
		t.Errorf("HandOff = %v, want > 0", d)
	}
}

// Every unit runs exactly once however the units fall among the caller
// and the workers, over many Do calls (run with -race too).
func TestPoolUnitsOnce(t *testing.T) {
	p := newPool(3)
	defer p.close()
	for round := range 500 {
		u := &unitTask{runs: make([]atomic.Int32, 1+round%13)}
		p.Do(len(u.runs), u)
		u.check(t, "three threads")
	}
}

// shareTask blocks unit 0 (the caller's first) until unit 4 has started,
// and records the first other unit to start.
type shareTask struct {
	first   atomic.Int32
	started chan struct{}
	runs    [8]atomic.Int32
}

func (s *shareTask) RunRange(lo, hi int) {
	for i := lo; i < hi; i++ {
		s.runs[i].Add(1)
		if i != 0 {
			s.first.CompareAndSwap(-1, int32(i))
		}
		switch i {
		case 0:
			<-s.started
		case 4:
			close(s.started)
		}
	}
}

// Each participant starts with its own share: with 8 units and two
// threads, the caller's first unit is 0 and the worker's is 4, the first
// unit of the second share (while the caller holds unit 0, the worker's
// first unit is the first other unit to start). Every unit still runs
// once.
func TestPoolShares(t *testing.T) {
	p := newPool(2)
	defer p.close()
	for round := range 50 {
		s := &shareTask{started: make(chan struct{})}
		s.first.Store(-1)
		p.Do(len(s.runs), s)
		if f := s.first.Load(); f != 4 {
			t.Fatalf("round %d: the worker started with unit %d, want 4 (its share)", round, f)
		}
		for i := range s.runs {
			if r := s.runs[i].Load(); r != 1 {
				t.Fatalf("round %d: unit %d ran %d times", round, i, r)
			}
		}
	}
}
