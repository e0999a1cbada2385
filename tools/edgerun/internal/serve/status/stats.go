package status

import (
	"math"
	"sync"
	"time"
)

// StatsSource gives the status page a model's traffic over the last
// minute: the requests answered and their latency's median and 99th
// percentile (0 when none). The daemon's metrics implement it; Window is
// a small one in memory.
type StatsSource interface {
	Stats(name string) (requests int64, p50, p99 time.Duration)
}

// The latency histogram of Window: binsPerOctave bins per doubling from
// minLatency, the last bin open-ended. A quantile is reported as the
// geometric middle of its bin, so within 2^(1/8) ≈ 9 % of the truth for
// latencies between minLatency and maxLatency.
const (
	binsPerOctave = 4
	minLatency    = time.Microsecond
	octaves       = 26 // 1 µs · 2^26 ≈ 67 s
	nbins         = binsPerOctave*octaves + 1
	slots         = 60 // one a second: the last minute
)

// maxLatency is the upper bound of the last closed bin.
var maxLatency = binUpper(nbins - 2)

// Window counts each model's requests and their latencies over a sliding
// minute, in one-second slots of a fixed histogram: its memory is bounded
// by the number of models (about 25 KiB each), whatever the traffic.
// The registry feeds it with Observe. Safe for concurrent use.
type Window struct {
	// Now is the clock (time.Now when nil); tests set it.
	Now func() time.Time

	mu     sync.Mutex
	models map[string]*series
}

// series is one model's slots: slot i holds the second sec[i].
type series struct {
	sec   [slots]int64
	count [slots]int64
	bins  [slots][nbins]uint32
}

// NewWindow returns an empty Window on the wall clock.
func NewWindow() *Window { return &Window{} }

func (w *Window) now() int64 {
	if w.Now != nil {
		return w.Now().Unix()
	}
	return time.Now().Unix()
}

// Observe records one request of model name that took d.
func (w *Window) Observe(name string, d time.Duration) {
	sec := w.now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.models == nil {
		w.models = make(map[string]*series)
	}
	s := w.models[name]
	if s == nil {
		s = new(series)
		w.models[name] = s
	}
	i := int(uint64(sec) % slots)
	if s.sec[i] != sec { // a slot of a minute ago (or never used): start it over
		s.sec[i], s.count[i] = sec, 0
		clear(s.bins[i][:])
	}
	s.count[i]++
	b := &s.bins[i][bin(d)]
	if *b < math.MaxUint32 {
		*b++
	}
}

// Forget drops model name's figures (the model was removed).
func (w *Window) Forget(name string) {
	w.mu.Lock()
	delete(w.models, name)
	w.mu.Unlock()
}

// Stats returns model name's requests over the last 60 seconds (the
// current one included) and their latency's p50 and p99.
func (w *Window) Stats(name string) (requests int64, p50, p99 time.Duration) {
	sec := w.now()
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.models[name]
	if s == nil {
		return 0, 0, 0
	}
	var sum [nbins]uint64
	var total uint64
	for i := range slots {
		if s.sec[i] <= sec-slots || s.sec[i] > sec {
			continue
		}
		requests += s.count[i]
		for j, n := range s.bins[i] {
			sum[j] += uint64(n)
			total += uint64(n)
		}
	}
	return requests, quantile(&sum, total, 0.50), quantile(&sum, total, 0.99)
}

// bin is the histogram bin of latency d.
func bin(d time.Duration) int {
	if d <= minLatency {
		return 0
	}
	// bin i (i ≥ 1) holds (upper(i-1), upper(i)], upper(i) = min·2^(i/binsPerOctave).
	i := int(math.Ceil(math.Log2(float64(d)/float64(minLatency)) * binsPerOctave))
	return min(max(i, 0), nbins-1)
}

// binUpper is the upper bound of bin i.
func binUpper(i int) time.Duration {
	return time.Duration(float64(minLatency) * math.Exp2(float64(i)/binsPerOctave))
}

// quantile is the q-quantile of the histogram h of total values: the
// geometric middle of the bin that holds the value of rank ⌈q·total⌉.
func quantile(h *[nbins]uint64, total uint64, q float64) time.Duration {
	if total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(total)))
	rank = max(rank, 1)
	var seen uint64
	for i, n := range h {
		seen += n
		if seen >= rank {
			switch i {
			case 0:
				return minLatency
			case nbins - 1:
				return maxLatency // open-ended: at least this
			}
			return time.Duration(float64(minLatency) * math.Exp2((float64(i)-0.5)/binsPerOctave))
		}
	}
	return maxLatency
}
