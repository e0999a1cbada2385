package pipeline

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/edgerun/edgerun/boards"
)

const fakeYAML = `sample_rate: 10
source: {kind: test}
window: {size: 4, hop: 2, channels: [b, a]}
model: {serve: fake}
rule:
  output: score
  threshold: {above: 0.5}
sinks:
  - {kind: record}
`

func TestWindowsChannelsNormalise(t *testing.T) {
	src := &sliceSource{channels: []string{"a", "b"}, readings: ramp(10)}
	model := &fakeModel{steps: 4, channels: 2}
	r := newRig(src, model)
	p := r.open(t, fakeYAML+"normalise: {mode: minmax, min: [100, 0], max: [110, 10]}\n", nil)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	// 10 samples, windows of 4 every 2: samples 0-3, 2-5, 4-7, 6-9.
	if st.Samples != 10 || st.Windows != 4 || st.Inferences != 4 || st.Drops["window"] != 0 {
		t.Fatalf("stats %+v", st)
	}
	ws := model.Windows()
	for k, w := range ws {
		for step := range 4 {
			i := float32(2*k + step)
			// channel b first: (100+i−100)/10, then a: i/10
			if want := []float32{i / 10, i / 10}; w[2*step] != want[0] || w[2*step+1] != want[1] {
				t.Errorf("window %d step %d = %v, want %v", k, step, w[2*step:2*step+2], want)
			}
		}
	}
	got := r.sink.Got()
	if len(got) != 4 {
		t.Fatalf("%d decisions, want 4", len(got))
	}
	// Readings without their own time are timed by the sample rate.
	start := newFakeClock().Now()
	for k, d := range got {
		if want := start.Add(time.Duration(2*k+3) * 100 * time.Millisecond); !d.Time.Equal(want) || d.Window != uint64(k) {
			t.Errorf("decision %d: window %d time %v, want window %d time %v", k, d.Window, d.Time, k, want)
		}
	}
	// The window's last b is (2k+3)/10: at or above 0.5 from window 1.
	if got[0].Alarm || !got[1].Alarm || !got[1].Changed || got[2].Changed || st.Alarms != 1 || !st.Alarm {
		t.Errorf("decisions %+v, stats %+v", got, st)
	}
	if !src.closed || !r.sink.closed {
		t.Errorf("source closed %v, sink closed %v", src.closed, r.sink.closed)
	}
	// Paced at 10 Hz by the clock: the reader slept 100 ms between reads.
	for _, d := range r.clock.Sleeps() {
		if d != 100*time.Millisecond {
			t.Fatalf("sleeps %v, want 100ms each", r.clock.Sleeps())
		}
	}
}

func TestRuleDebounceHysteresis(t *testing.T) {
	r := NewRule(RuleSpec{Threshold: true, Above: 0.8, ClearBelow: 0.4, Raise: 3, Clear: 2})
	scores := []float64{0.9, 0.9, 0.1, 0.9, 0.9, 0.9, 0.5, 0.3, 0.5, 0.3, 0.3, 0.7, 0.85, 0.85, 0.85}
	want := []bool{false, false, false, false, false, true, true, true, true, true, false, false, false, false, true}
	var got []bool
	for _, s := range scores {
		on, _ := r.Step(s, "")
		got = append(got, on)
	}
	if !slices.Equal(got, want) {
		t.Errorf("scores %v\nalarm %v\nwant  %v", scores, got, want)
	}
	// A label rule with no debounce follows the labels.
	l := NewRule(RuleSpec{Labels: []string{"bearing_fault", "imbalance"}, Raise: 1, Clear: 1})
	var changes []bool
	for _, lab := range []string{"healthy", "imbalance", "bearing_fault", "healthy", "healthy"} {
		on, ch := l.Step(0, lab)
		changes = append(changes, on, ch)
	}
	if w := []bool{false, false, true, true, true, false, false, true, false, false}; !slices.Equal(changes, w) {
		t.Errorf("label rule (on, changed) %v, want %v", changes, w)
	}
}

func TestQueueDropsOldest(t *testing.T) {
	q := newQueue[int](3)
	drops := 0
	for i := range 10 {
		if q.push(i) {
			drops++
		}
		if q.len() > 3 {
			t.Fatalf("queue holds %d, capacity 3", q.len())
		}
	}
	q.close()
	var got []int
	for {
		v, ok := q.pop(context.Background())
		if !ok {
			break
		}
		got = append(got, v)
	}
	if drops != 7 || !slices.Equal(got, []int{7, 8, 9}) {
		t.Errorf("drops %d, left %v; want 7 and [7 8 9]", drops, got)
	}
	if !q.push(1) {
		t.Error("push after close is not reported dropped")
	}
}

// TestBackPressure: a model slower than the windows of a sensor (paced)
// source; the queue keeps the newest windows, the others are counted.
func TestBackPressure(t *testing.T) {
	const n = 200
	src := &sliceSource{channels: []string{"a", "b"}, readings: ramp(n), realtime: true}
	model := &fakeModel{steps: 4, channels: 2, block: make(chan struct{}), started: make(chan struct{})}
	r := newRig(src, model)
	p := r.open(t, fakeYAML+"queue: 2\n", nil)
	done := make(chan error)
	go func() { done <- p.Run(context.Background()) }()
	<-model.started
	for p.Stats().Windows < (n-4)/2+1 { // the reader goes on while the model waits
		runtime.Gosched()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	close(model.block)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	if st.Windows != (n-4)/2+1 {
		t.Fatalf("windows %d, want %d", st.Windows, (n-4)/2+1)
	}
	// One window in the model, at most `queue` (2) waiting: the rest dropped.
	if st.Inferences > 3 || st.Inferences+st.Drops["window"] != st.Windows {
		t.Errorf("inferences %d + drops %d, windows %d (queue 2)", st.Inferences, st.Drops["window"], st.Windows)
	}
	ws := model.Windows()
	if last := ws[len(ws)-1]; last[6] != float32(100+n-1) {
		t.Errorf("the last window run ends with %v, want the newest sample %d", last[6], 100+n-1)
	}
}

// TestSlowSinkDropsOldest: a sink that does not keep up loses its oldest
// decisions, counted under its name; others are not held up.
func TestSlowSinkDropsOldest(t *testing.T) {
	src := &sliceSource{channels: []string{"a", "b"}, readings: ramp(100), realtime: true}
	model := &fakeModel{steps: 4, channels: 2}
	r := newRig(src, model)
	r.sink.block = make(chan struct{})
	var all []Decision
	p := r.open(t, fakeYAML+"  - {kind: gpio, pin: GPIO17, on: change}\nqueue: 64\n", func(d Decision) { all = append(all, d) })
	done := make(chan error)
	go func() { done <- p.Run(context.Background()) }()
	for st := p.Stats(); st.Windows < 49 || st.Inferences+st.Drops["window"] < 49; st = p.Stats() {
		runtime.Gosched() // every window run or dropped
	}
	close(r.sink.block)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	got := r.sink.Got()
	if st.Drops["record"] == 0 || uint64(len(got))+st.Drops["record"] != st.Inferences || len(got) > DefaultSinkQueue+1 {
		t.Errorf("record sink got %d, dropped %d of %d decisions", len(got), st.Drops["record"], st.Inferences)
	}
	if got[len(got)-1] != all[len(all)-1] {
		t.Errorf("the slow sink's last decision %+v, want the newest %+v", got[len(got)-1], all[len(all)-1])
	}
	sets, closed := r.act.state()
	if st.Drops["gpio"] != 0 || !slices.Equal(sets, []bool{true, false}) || !closed {
		t.Errorf("gpio drops %d, sets %v (want [true false]: alarm, off at close), closed %v", st.Drops["gpio"], sets, closed)
	}
}

// TestSourceErrorsRetried: a sensor that stops answering for a while is
// counted and retried with exponential back-off, then read again.
func TestSourceErrorsRetried(t *testing.T) {
	src := &sliceSource{channels: []string{"a", "b"}, readings: ramp(8), fail: map[int]bool{2: true, 3: true, 4: true, 5: true, 6: true}}
	model := &fakeModel{steps: 4, channels: 2}
	r := newRig(src, model)
	p := r.open(t, fakeYAML+"retry: {initial_seconds: 0.1, max_seconds: 0.5}\n", nil)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	if st.SensorErrors != 5 || st.Samples != 8 || st.Windows != 3 || st.Inferences != 3 {
		t.Errorf("stats %+v, want 5 sensor errors, 8 samples, 3 windows", st)
	}
	// The sleeps after the first failure: 100, 200, 400, 500 (cap), 500
	// ms of back-off, then pacing again.
	want := []time.Duration{100, 200, 400, 500, 500}
	for i := range want {
		want[i] *= time.Millisecond
	}
	sl := r.clock.Sleeps()
	if i := slices.Index(sl, 200*time.Millisecond); i < 1 || !slices.Equal(sl[i-1:i-1+len(want)], want) {
		t.Errorf("sleeps %v, want back-off %v after the first failure", sl, want)
	}
}

// TestModelErrorsCounted: a failed inference is counted; the pipeline goes on.
func TestModelErrorsCounted(t *testing.T) {
	src := &sliceSource{channels: []string{"a", "b"}, readings: ramp(20)}
	model := &fakeModel{steps: 4, channels: 2, fail: func(call int) bool { return call%3 == 0 }}
	r := newRig(src, model)
	p := r.open(t, fakeYAML, nil)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	if st.Windows != 9 || st.ModelErrors != 3 || len(r.sink.Got()) != 6 {
		t.Errorf("stats %+v, decisions %d; want 9 windows, 3 model errors, 6 decisions", st, len(r.sink.Got()))
	}
}

// TestStopClosesSinks: cancelling a live pipeline (SIGTERM) stops the
// reads, runs what is queued, and leaves the GPIO output off and closed.
func TestStopClosesSinks(t *testing.T) {
	src := &sliceSource{channels: []string{"a", "b"}, realtime: true,
		gen: func(i int) boards.Reading { return boards.Reading{Values: []float64{1, 1}} }}
	model := &fakeModel{steps: 4, channels: 2}
	r := newRig(src, model)
	alarmed := make(chan struct{})
	var once bool
	p := r.open(t, fakeYAML+"  - {kind: gpio, pin: GPIO17, on: change}\n", func(d Decision) {
		if d.Alarm && !once {
			once = true
			close(alarmed)
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	<-alarmed
	for sets, _ := r.act.state(); len(sets) == 0; sets, _ = r.act.state() {
		runtime.Gosched() // the gpio sink's goroutine sets the pin
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	sets, closed := r.act.state()
	if !slices.Equal(sets, []bool{true, false}) || !closed {
		t.Errorf("gpio sets %v, closed %v; want [true false] and closed", sets, closed)
	}
	if !src.closed || !r.sink.closed || !p.Stats().Alarm {
		t.Errorf("source closed %v, sink closed %v, stats %+v", src.closed, r.sink.closed, p.Stats())
	}
	if err := p.Run(ctx); err == nil {
		t.Error("a second Run did not fail")
	}
}

func TestLabelRuleColumn(t *testing.T) {
	src := &sliceSource{channels: []string{"a", "b"}, readings: ramp(10)}
	model := &fakeModel{steps: 4, channels: 1}
	r := newRig(src, model)
	p := r.open(t, `sample_rate: 10
source: {kind: test, }
window: {size: 4, hop: 2, channels: [a]}
normalise: {mode: standard, mean: [0], std: [10]}
model: {serve: fake}
rule: {output: label, labels: [high], debounce: 2}
sinks: [{kind: record, on: change}]
`, nil)
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	// last a /10: 0.3, 0.5, 0.7, 0.9 → low high high high; raised at the 2nd high.
	got := r.sink.Got()
	if len(got) != 1 || got[0].Window != 2 || !got[0].Alarm || got[0].Label != "high" || got[0].Value != nil {
		t.Errorf("decisions on change %+v, want one: window 2 raised on label high", got)
	}
}

func TestServeOnlyInsideServe(t *testing.T) {
	c, err := Parse("p.yaml", ".", []byte(fakeYAML), newRig(&sliceSource{channels: []string{"a", "b"}}, nil).kinds)
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(context.Background(), c, Options{})
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Error() != "p.yaml:4: model.serve: "+ErrServeOnly.Error() {
		t.Errorf("err %v", err)
	}
}
