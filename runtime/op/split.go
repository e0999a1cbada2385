package op

import "time"

// Split decides, for one call site of one session, whether a piece of
// parallel work runs on the caller alone or is handed out to the
// session's workers, by measuring both. It is part of an operator's
// per-session state (NewState); the zero value is ready.
//
// On a Timed Parallel with more than one worker it first times the work
// on the caller alone; work that takes less than a few hand-offs of the
// pool (Timed.HandOff) stays there, re-timed now and then. Other work is
// also timed through the workers, and the faster way wins (handing out
// must save a quarter to be taken up, see record). The chosen way
// is re-timed every splitRetime calls (every call when it takes over
// splitTimeEvery) and the other one tried again at growing intervals
// (splitExploreMin to splitExploreMax calls), so a layer follows the
// machine's load: when other processes keep the second core busy,
// handing out loses and the caller keeps the work.
//
// Either way every unit is computed the same way, so the choice never
// changes a bit of the result. Calls of different sizes (keys) are
// measured apart; a Split keeps the last few keys.
//
// On a Parallel that is not Timed (a test's), Split hands out the work
// whenever it is at least the minWork its caller gives.
type Split struct {
	stats [splitKeys]splitStat
	last  uint8 // the entry replaced last
	cur   uint8 // the entry used last
	whole bool  // a Region's: handing out is taken up once faster at all
}

const (
	splitKeys = 4
	// splitFloor: 64K multiply-adds take a fraction of a microsecond,
	// less than any hand-off; such work is not even timed.
	splitFloor = 1 << 16
	// splitGate: work that takes less than splitGate hand-offs on one
	// goroutine stays there (two workers save at most half of it).
	splitGate = 3
	// splitTrials of each way are timed before the first choice.
	splitTrials = 3
	// splitRetime: every splitRetime-th call of the chosen way is timed.
	splitRetime = 16
	// splitTimeEvery: work that takes longer is timed on every call (two
	// clock readings, about 60 ns in this VM, cost under a thousandth of
	// it, also where a session's choosers nest), so its choice follows the
	// load of the machine from one call to the next.
	splitTimeEvery = 100 * time.Microsecond
	// splitIdle: work under the gate is re-timed every splitIdle calls.
	splitIdle       = 256
	splitExploreMin = 32
	splitExploreMax = 1024
)

type splitStat struct {
	whole       bool // Split.whole, copied when the entry is made
	key         int
	calls       uint32
	ser, par    time.Duration // estimates: alone, handed out
	nser, npar  uint8         // trials taken (up to splitTrials)
	usePar      bool
	explore     uint32 // calls between tries of the way not chosen
	nextExplore uint32
	used        bool
	small       bool // under the gate: runs alone, timed every splitIdle calls
}

// splitEpoch is the origin of Split's clock readings.
var splitEpoch = time.Now()

func splitNow() time.Duration { return time.Since(splitEpoch) }

// Do runs t over [0, n): on the caller alone as one t.RunRange(0, n), or
// through ctx.Par.Do(n, t). key identifies the size of the work (calls
// with one key take about the same time). work is its size in
// multiply-adds (or like element operations): work under splitFloor runs
// on the caller without a look at the clock, and on a Parallel that is
// not Timed work of at least minWork is handed out.
func (s *Split) Do(ctx *Ctx, key, n int, t Task, work, minWork int) {
	if work < splitFloor || n < 2 {
		t.RunRange(0, n)
		return
	}
	// The common case of small work, again: no clock, no interface call.
	if s.Small(key) {
		t.RunRange(0, n)
		return
	}
	p := ctx.Par
	if p == nil || p.Workers() < 2 {
		t.RunRange(0, n)
		return
	}
	tp, ok := p.(Timed)
	if !ok {
		if work >= minWork {
			p.Do(n, t)
		} else {
			t.RunRange(0, n)
		}
		return
	}
	st := s.find(key)
	st.calls++
	par, timed := st.choose(tp.HandOff())
	st.small = st.nser >= splitTrials && st.ser < splitGate*tp.HandOff()
	if !timed {
		if par {
			p.Do(n, t)
		} else {
			t.RunRange(0, n)
		}
		return
	}
	t0 := splitNow()
	if par {
		p.Do(n, t)
	} else {
		t.RunRange(0, n)
	}
	st.record(par, splitNow()-t0)
}

// find returns the entry of key, replacing the oldest entry if none.
func (s *Split) find(key int) *splitStat {
	for i := range s.stats {
		if st := &s.stats[i]; st.used && st.key == key {
			s.cur = uint8(i)
			return st
		}
	}
	s.last = (s.last + 1) % splitKeys
	s.cur = s.last
	st := &s.stats[s.last]
	*st = splitStat{key: key, used: true, explore: splitExploreMin, whole: s.whole}
	return st
}

// choose returns the way to run this call and whether to time it.
func (st *splitStat) choose(handoff time.Duration) (par, timed bool) {
	switch {
	case st.nser < splitTrials:
		return false, true
	case st.ser < splitGate*handoff:
		return false, st.calls%splitIdle == 0
	case st.npar < splitTrials:
		return true, true
	case st.calls >= st.nextExplore:
		return !st.usePar, true
	}
	est := st.ser
	if st.usePar {
		est = st.par
	}
	return st.usePar, st.calls%splitRetime == 0 || est >= splitTimeEvery
}

// record takes the time of one call made the given way.
func (st *splitStat) record(par bool, d time.Duration) {
	est, n := &st.ser, &st.nser
	if par {
		est, n = &st.par, &st.npar
	}
	explored := st.npar >= splitTrials && par != st.usePar
	old := *est
	switch {
	case *n < splitTrials: // the trials: the least of them
		if *n == 0 || d < *est {
			*est = d
		}
		*n++
	case explored: // a rare sample of the other way: it weighs more
		*est += (min(d, 2**est) - *est) / 2
	default: // a running mean, an outlier (preemption) counting at most twice the estimate
		*est += (min(d, 2**est) - *est) / 4
	}
	if st.npar < splitTrials {
		return // not both measured yet
	}
	was := st.usePar
	// Handing out must save a quarter to be taken up: it also costs the
	// layers after it, which run while the worker still spins on a core
	// that may share execution units with the caller's, and a hand-out
	// that just breaks even is at the mercy of the other core's load. It
	// is kept while it is faster at all.
	switch {
	case st.usePar:
		st.usePar = st.par < st.ser
	case st.whole:
		st.usePar = st.par < st.ser-st.ser/32
	default:
		st.usePar = st.par < st.ser-st.ser/4
	}
	if explored {
		// The other way is tried less often while it stays as it was,
		// and often again once it changes.
		if st.usePar == was && max(*est-old, old-*est) < old/8 {
			st.explore = min(2*st.explore, splitExploreMax)
		} else {
			st.explore = splitExploreMin
		}
		st.nextExplore = st.calls + st.explore
	} else if st.nextExplore == 0 {
		st.nextExplore = st.calls + st.explore
	}
}

// Region runs run once, run(true) letting the work inside it hand out
// its parallel parts and run(false) keeping all of it on the caller, and
// chooses between the two as Do does, by timing whole calls of each
// (calls with one key apart): a session times a whole inference this way,
// because handing out one operator's work can slow the serial work after
// it (its output then sits in another core's cache) by more than the
// operator saves, which the operator's own Split does not see. Handing
// out is taken up once it saves a thirty-second (the per-operator Splits
// inside have already kept what does not pay), and dropped once it no
// longer saves anything. The first calls hand out (the trials of that
// way come first here). Without a Timed Parallel of more than one worker,
// run(ctx.Par != nil) runs untimed.
func (s *Split) Region(ctx *Ctx, key int, run func(par bool)) {
	if s.Small(key) {
		run(false)
		return
	}
	p := ctx.Par
	if p == nil || p.Workers() < 2 {
		run(false)
		return
	}
	tp, ok := p.(Timed)
	if !ok {
		run(true)
		return
	}
	s.compare(key, tp.HandOff(), run)
}

// Small reports whether work of key (a Do's or a Region's) has been
// measured under the gate and this call is not one of the re-timed ones,
// counting the call: the caller then runs it alone, without the clock or
// a call of Region (an inference of a microsecond notices even that).
func (s *Split) Small(key int) bool {
	st := &s.stats[s.cur]
	if !st.used || st.key != key || !st.small || (st.calls+1)%splitIdle == 0 {
		return false
	}
	st.calls++
	return true
}

// Either chooses between two ways of doing the same work, run(false) and
// run(true), by timing whole calls of each as Region does (calls with one
// key apart), whatever the Parallel: the second way is tried first, taken
// up once it saves a thirty-second and dropped once it no longer saves
// anything, and the one not chosen is tried again now and then.
func (s *Split) Either(key int, run func(alt bool)) { s.compare(key, 0, run) }

// compare is Region and Either: handoff is the pool's hand-off time, work
// under splitGate of which stays on run(false) (0: no such gate).
func (s *Split) compare(key int, handoff time.Duration, run func(alt bool)) {
	s.whole = true
	st := s.find(key)
	st.calls++
	par, timed := true, true // the second way first: the trials of Do's order, reversed
	if st.npar >= splitTrials {
		par, timed = st.choose(handoff)
		st.small = handoff > 0 && st.nser >= splitTrials && st.ser < splitGate*handoff
	}
	if !timed {
		run(par)
		return
	}
	t0 := splitNow()
	run(par)
	st.record(par, splitNow()-t0)
}
