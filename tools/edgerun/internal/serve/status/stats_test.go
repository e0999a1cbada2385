package status

import (
	"math"
	"sync"
	"testing"
	"time"
)

// clock is a settable clock for Window.Now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// near reports whether got is within one bin's half-width of want.
func near(got, want time.Duration) bool {
	r := float64(got) / float64(want)
	tol := math.Exp2(0.5 / binsPerOctave)
	return r >= 1/tol && r <= tol
}

func TestWindowQuantiles(t *testing.T) {
	c := &clock{t: time.Unix(1_000_000, 0)}
	w := &Window{Now: c.now}
	if n, p50, p99 := w.Stats("m"); n != 0 || p50 != 0 || p99 != 0 {
		t.Fatalf("empty window: %d %v %v, want zeros", n, p50, p99)
	}
	// 100 requests: 1 ms .. 100 ms, one each.
	for i := 1; i <= 100; i++ {
		w.Observe("m", time.Duration(i)*time.Millisecond)
	}
	w.Observe("other", time.Second)
	n, p50, p99 := w.Stats("m")
	if n != 100 {
		t.Errorf("requests %d, want 100", n)
	}
	if !near(p50, 50*time.Millisecond) {
		t.Errorf("p50 %v, want about 50ms", p50)
	}
	if !near(p99, 99*time.Millisecond) {
		t.Errorf("p99 %v, want about 99ms", p99)
	}
	if n, _, p99 := w.Stats("other"); n != 1 || !near(p99, time.Second) {
		t.Errorf("other: %d requests p99 %v, want 1 and about 1s", n, p99)
	}
}

func TestWindowSlides(t *testing.T) {
	c := &clock{t: time.Unix(1_000_000, 0)}
	w := &Window{Now: c.now}
	for range 10 {
		w.Observe("m", time.Millisecond) // second 0
	}
	c.t = c.t.Add(30 * time.Second)
	for range 5 {
		w.Observe("m", 10*time.Millisecond) // second 30
	}
	if n, _, _ := w.Stats("m"); n != 15 {
		t.Errorf("at 30s: %d requests, want 15", n)
	}
	c.t = c.t.Add(29 * time.Second) // second 59: both still inside
	if n, _, _ := w.Stats("m"); n != 15 {
		t.Errorf("at 59s: %d requests, want 15", n)
	}
	c.t = c.t.Add(time.Second) // second 60: the first slot is a minute old
	n, p50, _ := w.Stats("m")
	if n != 5 || !near(p50, 10*time.Millisecond) {
		t.Errorf("at 60s: %d requests p50 %v, want 5 and about 10ms", n, p50)
	}
	// Second 120 reuses the slot of second 0 and 60: the old counts go.
	c.t = c.t.Add(60 * time.Second)
	w.Observe("m", 2*time.Millisecond)
	n, p50, p99 := w.Stats("m")
	if n != 1 || !near(p50, 2*time.Millisecond) || p99 != p50 {
		t.Errorf("at 120s: %d requests p50 %v p99 %v, want 1 and about 2ms twice", n, p50, p99)
	}
	// A clock gone back does not count slots of the future.
	c.t = c.t.Add(-10 * time.Second)
	if n, _, _ := w.Stats("m"); n != 0 {
		t.Errorf("clock back 10s: %d requests, want 0", n)
	}
	w.Forget("m")
	c.t = c.t.Add(10 * time.Second)
	if n, _, _ := w.Stats("m"); n != 0 {
		t.Errorf("after Forget: %d requests, want 0", n)
	}
}

func TestWindowExtremes(t *testing.T) {
	w := NewWindow()
	w.Observe("m", 0)
	w.Observe("m", -time.Second)
	if _, p50, p99 := w.Stats("m"); p50 != minLatency || p99 != minLatency {
		t.Errorf("zero and negative latencies: p50 %v p99 %v, want %v", p50, p99, minLatency)
	}
	w.Forget("m")
	w.Observe("m", time.Hour)
	if _, p50, _ := w.Stats("m"); p50 != maxLatency {
		t.Errorf("an hour: p50 %v, want the cap %v", p50, maxLatency)
	}
	for i := range nbins - 1 {
		if lo, hi := binUpper(i), binUpper(i+1); bin(hi) != i+1 || bin(lo+1) != i+1 {
			t.Fatalf("bin %d: (%v, %v] maps to %d and %d", i+1, lo, hi, bin(lo+1), bin(hi))
		}
	}
}

// TestWindowConcurrent is for -race: Observe and Stats from many goroutines.
func TestWindowConcurrent(t *testing.T) {
	fixed := time.Unix(1_000_000, 0)
	w := &Window{Now: func() time.Time { return fixed }}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				w.Observe("m", time.Duration(g*i)*time.Microsecond)
				w.Stats("m")
			}
		})
	}
	wg.Wait()
	if n, _, _ := w.Stats("m"); n != 1600 {
		t.Errorf("%d requests, want 1600", n)
	}
}

func TestWindowMemoryBounded(t *testing.T) {
	c := &clock{t: time.Unix(1_000_000, 0)}
	w := &Window{Now: c.now}
	w.Observe("m", time.Millisecond)
	allocs := testing.AllocsPerRun(1000, func() {
		c.t = c.t.Add(time.Second)
		w.Observe("m", time.Millisecond)
	})
	if allocs != 0 {
		t.Errorf("Observe allocates %v times per call on a known model, want 0", allocs)
	}
}
