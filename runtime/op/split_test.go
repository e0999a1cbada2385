package op

import (
	"sync/atomic"
	"testing"
	"time"
)

// splitSim drives one splitStat with given times for each way, as Split.Do
// would, and counts the calls made each way.
func splitSim(st *splitStat, handoff time.Duration, calls int, ser, par func(call int) time.Duration) (nser, npar int) {
	for c := range calls {
		st.calls++
		p, timed := st.choose(handoff)
		if p {
			npar++
		} else {
			nser++
		}
		if timed {
			d := ser(c)
			if p {
				d = par(c)
			}
			st.record(p, d)
		}
	}
	return nser, npar
}

func fixed(d time.Duration) func(int) time.Duration { return func(int) time.Duration { return d } }

// TestSplitChoice checks Split's choices against made-up times: work under
// a few hand-offs is never handed out; otherwise the faster way wins,
// the other is tried rarely, and a change of the machine turns it over.
func TestSplitChoice(t *testing.T) {
	const h = time.Microsecond
	t.Run("small work stays", func(t *testing.T) {
		st := &splitStat{explore: splitExploreMin}
		_, npar := splitSim(st, h, 5000, fixed(2*h), fixed(h))
		if npar != 0 {
			t.Errorf("work of 2 hand-offs was handed out %d times of 5000", npar)
		}
	})
	t.Run("faster handed out", func(t *testing.T) {
		st := &splitStat{explore: splitExploreMin}
		nser, _ := splitSim(st, h, 5000, fixed(100*h), fixed(60*h))
		if !st.usePar || nser > 5000/50 {
			t.Errorf("handing out is faster, yet %d of 5000 calls ran alone (usePar %v)", nser, st.usePar)
		}
	})
	t.Run("slower kept", func(t *testing.T) {
		st := &splitStat{explore: splitExploreMin}
		_, npar := splitSim(st, h, 5000, fixed(100*h), fixed(130*h))
		if st.usePar || npar > 5000/50 {
			t.Errorf("handing out is slower, yet %d of 5000 calls were handed out (usePar %v)", npar, st.usePar)
		}
	})
	t.Run("barely faster kept", func(t *testing.T) {
		st := &splitStat{explore: splitExploreMin}
		_, npar := splitSim(st, h, 5000, fixed(100*h), fixed(85*h))
		if st.usePar || npar > 5000/50 {
			t.Errorf("handing out saves 15%%, yet %d of 5000 calls were handed out (usePar %v)", npar, st.usePar)
		}
	})
	t.Run("load comes and goes", func(t *testing.T) {
		st := &splitStat{explore: splitExploreMin}
		busy := func(c int) time.Duration { // the second core is taken from call 2000 to 4000
			if c >= 2000 && c < 4000 {
				return 140 * h
			}
			return 60 * h
		}
		splitSim(st, h, 2000, fixed(100*h), busy)
		if !st.usePar {
			t.Fatal("not handed out while it is faster")
		}
		splitSim(st, h, 2000, fixed(100*h), func(c int) time.Duration { return busy(c + 2000) })
		if st.usePar {
			t.Fatal("still handed out after 2000 calls that take longer so")
		}
		splitSim(st, h, 3000, fixed(100*h), func(c int) time.Duration { return busy(c + 4000) })
		if !st.usePar {
			t.Fatal("not handed out again once it is faster again")
		}
	})
	t.Run("outlier", func(t *testing.T) {
		st := &splitStat{explore: splitExploreMin}
		splitSim(st, h, 1000, fixed(100*h), fixed(60*h))
		// One preempted run a hundred times too slow does not turn it over.
		splitSim(st, h, splitRetime, fixed(100*h), func(c int) time.Duration {
			if c == splitRetime-1 {
				return 6000 * h
			}
			return 60 * h
		})
		if !st.usePar {
			t.Error("one outlier turned the choice over")
		}
	})
}

// countTask records which units ran (ranges are disjoint) and in how many
// ranges.
type countTask struct {
	runs   []int
	ranges atomic.Int32
}

func (c *countTask) RunRange(lo, hi int) {
	c.ranges.Add(1)
	for i := lo; i < hi; i++ {
		c.runs[i]++
	}
}

type timedPool struct {
	testPool
	dos int
}

func (p *timedPool) HandOff() time.Duration { return time.Nanosecond }
func (p *timedPool) Do(n int, t Task)       { p.dos++; p.testPool.Do(n, t) }

// TestSplitDo checks that Split.Do runs every unit exactly once either
// way, alone as one range, and keys calls apart.
func TestSplitDo(t *testing.T) {
	var s Split
	p := &timedPool{testPool: testPool{2}}
	ctx := &Ctx{Par: p}
	for call := range 200 {
		for _, n := range []int{3, 8} {
			c := &countTask{runs: make([]int, n)}
			s.Do(ctx, n, n, c, 1<<20, 0)
			for i, r := range c.runs {
				if r != 1 {
					t.Fatalf("call %d, n %d: unit %d ran %d times", call, n, i, r)
				}
			}
		}
	}
	if s.find(3).calls != 200 || s.find(8).calls != 200 {
		t.Errorf("calls per key %d and %d, want 200 each", s.find(3).calls, s.find(8).calls)
	}
	// A Parallel that is not Timed: the work thresholds decide.
	c := &countTask{runs: make([]int, 4)}
	s.Do(&Ctx{Par: testPool{2}}, 4, 4, c, splitFloor, splitFloor+1)
	if c.ranges.Load() != 1 {
		t.Errorf("work under minWork ran in %d ranges, want 1 on the caller", c.ranges.Load())
	}
	// Work under the floor is not handed out, not even timed.
	dos := p.dos
	c = &countTask{runs: make([]int, 4)}
	s.Do(ctx, 99, 4, c, splitFloor-1, 0)
	if c.ranges.Load() != 1 || p.dos != dos {
		t.Errorf("work under splitFloor: %d ranges, %d Do calls, want 1 range on the caller", c.ranges.Load(), p.dos-dos)
	}
	single := &Ctx{Par: &timedPool{testPool: testPool{1}}}
	c = &countTask{runs: make([]int, 4)}
	s.Do(single, 4, 4, c, 1<<30, 0)
	if c.ranges.Load() != 1 || single.Par.(*timedPool).dos != 0 {
		t.Errorf("one worker: %d ranges, %d Do calls, want 1 range on the caller", c.ranges.Load(), single.Par.(*timedPool).dos)
	}
}

// A Region's entry takes up handing out once it saves a little (the
// operators inside already keep what does not pay), where Do's wants a
// quarter, and drops it once it is slower.
func TestSplitRegionChoice(t *testing.T) {
	const h = time.Microsecond
	st := &splitStat{explore: splitExploreMin, whole: true}
	splitSim(st, h, 3000, fixed(100*h), fixed(92*h))
	if !st.usePar {
		t.Errorf("a whole run 8%% faster handed out was not taken up")
	}
	splitSim(st, h, 3000, fixed(100*h), fixed(103*h))
	if st.usePar {
		t.Errorf("a whole run 3%% slower handed out is still chosen")
	}
}

// regionRun records how a Region ran its function.
type regionRun struct{ par, ser int }

func (r *regionRun) run(par bool) {
	if par {
		r.par++
	} else {
		r.ser++
	}
}

// Region runs its function exactly once a call; without workers (or a
// one-worker Parallel) never handing out, on a Parallel that is not Timed
// always, and on a Timed one handing out first (the trials of that way).
func TestSplitRegion(t *testing.T) {
	for _, c := range []struct {
		name     string
		par      Parallel
		firstPar bool
	}{
		{"no Parallel", nil, false},
		{"one worker", testPool{1}, false},
		{"not Timed", testPool{2}, true},
		{"Timed", &timedPool{testPool: testPool{2}}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var s Split
			r := &regionRun{}
			ctx := &Ctx{Par: c.par}
			s.Region(ctx, 1, r.run)
			if got := r.par == 1; got != c.firstPar || r.par+r.ser != 1 {
				t.Fatalf("first call: %d handed out, %d alone; want handed out %v, once", r.par, r.ser, c.firstPar)
			}
			for range 300 {
				s.Region(ctx, 1, r.run)
			}
			if r.par+r.ser != 301 {
				t.Fatalf("301 calls ran the function %d times", r.par+r.ser)
			}
			if c.name == "Timed" && (r.par < splitTrials || r.ser < splitTrials) {
				t.Errorf("Timed: %d handed out, %d alone; want at least %d trials of each", r.par, r.ser, splitTrials)
			}
		})
	}
}
