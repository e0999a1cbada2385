package gpioio

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// fakeTime is a clock the test goroutine moves; only the test goroutine
// calls Now (OpenCounter and Read run there).
type fakeTime struct{ t time.Time }

func (f *fakeTime) Now() time.Time          { return f.t }
func (f *fakeTime) Advance(d time.Duration) { f.t = f.t.Add(d) }

// startCounter opens a counter on a fake pin with an unbuffered edge channel
// and a hook that reports each counted edge, so the test knows when an edge
// it sent has been counted without sleeping.
func startCounter(t *testing.T, opts Options) (*Counter, *gpiotest.Pin, chan struct{}) {
	t.Helper()
	pin := &gpiotest.Pin{N: "GPIO17", Num: 17, EdgesChan: make(chan gpio.Level)}
	counted := make(chan struct{}, 100)
	c, err := openCounter(pin, opts, func() { counted <- struct{}{} })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, pin, counted
}

func edges(pin *gpiotest.Pin, counted chan struct{}, levels ...gpio.Level) {
	for _, l := range levels {
		pin.EdgesChan <- l
		<-counted
	}
}

func TestCounterCountsSinceLastRead(t *testing.T) {
	clk := &fakeTime{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	c, pin, counted := startCounter(t, Options{Edge: gpio.BothEdges, Pull: gpio.PullDown, Now: clk.Now})
	if got := strings.Join(c.Channels(), ","); got != "count,rate_hz" {
		t.Errorf("Channels() = %s", got)
	}
	if p := pin.Pull(); p != gpio.PullDown {
		t.Errorf("pull = %s, want %s", p, gpio.PullDown)
	}
	ctx := context.Background()
	for i, tc := range []struct {
		edges   int
		elapsed time.Duration
		rate    float64
	}{
		{3, 2 * time.Second, 1.5},
		{0, time.Second, 0},
		{10, 500 * time.Millisecond, 20},
		{1, 0, 0}, // no time passed: no rate
	} {
		for j := 0; j < tc.edges; j++ {
			edges(pin, counted, gpio.Level(j%2 == 0))
		}
		clk.Advance(tc.elapsed)
		r, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		if r.Values[0] != float64(tc.edges) || r.Values[1] != tc.rate {
			t.Errorf("read %d = count %v, rate %v Hz; want %d, %v", i, r.Values[0], r.Values[1], tc.edges, tc.rate)
		}
		if !r.Time.Equal(clk.t) {
			t.Errorf("read %d time %v, want %v", i, r.Time, clk.t)
		}
	}
}

func TestCounterCloseStopsCounting(t *testing.T) {
	c, pin, counted := startCounter(t, Options{Poll: time.Millisecond})
	edges(pin, counted, gpio.High)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// The goroutine has ended: nothing receives edges any more.
	select {
	case pin.EdgesChan <- gpio.High:
		t.Error("an edge was taken after Close")
	default:
	}
	if _, err := c.Read(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after Close: %v, want ErrClosed", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestCounterReadHonoursContext(t *testing.T) {
	c, _, _ := startCounter(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Read(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Read: %v, want context.Canceled", err)
	}
}

func TestCounterOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"edge", Options{Edge: gpio.Edge(7)}, "edge 7"},
		{"pull", Options{Pull: gpio.Pull(9)}, "pull 9"},
		{"poll", Options{Poll: -time.Second}, "poll -1s is negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pin := &gpiotest.Pin{N: "GPIO4", EdgesChan: make(chan gpio.Level)}
			_, err := OpenCounter(pin, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("OpenCounter: %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if _, err := OpenCounter(nil, Options{}); err == nil {
		t.Error("OpenCounter(nil) succeeded")
	}
	// A pin that refuses edge detection (gpiotest needs an edge channel).
	_, err := OpenCounter(&gpiotest.Pin{N: "GPIO5"}, Options{})
	if err == nil || !strings.Contains(err.Error(), "GPIO5") || !strings.Contains(err.Error(), "RisingEdge") {
		t.Errorf("OpenCounter without edge support: %v", err)
	}
}

func TestOutputPolarity(t *testing.T) {
	for _, tc := range []struct {
		activeLow bool
		on, off   gpio.Level
	}{
		{false, gpio.High, gpio.Low},
		{true, gpio.Low, gpio.High},
	} {
		name := "active-high"
		if tc.activeLow {
			name = "active-low"
		}
		t.Run(name, func(t *testing.T) {
			pin := &gpiotest.Pin{N: "GPIO27", Num: 27, L: tc.on} // starts in the on level
			o, err := OpenOutput(pin, tc.activeLow)
			if err != nil {
				t.Fatal(err)
			}
			if pin.Read() != tc.off || o.On() {
				t.Fatalf("after OpenOutput the pin is %s, want %s (off)", pin.Read(), tc.off)
			}
			for _, on := range []bool{true, true, false, true} {
				if err := o.Set(on); err != nil {
					t.Fatal(err)
				}
				want := tc.off
				if on {
					want = tc.on
				}
				if pin.Read() != want || o.On() != on {
					t.Fatalf("Set(%t): pin %s, On() %t; want %s, %t", on, pin.Read(), o.On(), want, on)
				}
			}
			if err := o.Close(); err != nil {
				t.Fatal(err)
			}
			if pin.Read() != tc.off {
				t.Errorf("after Close the pin is %s, want %s (off)", pin.Read(), tc.off)
			}
			if err := o.Set(true); !errors.Is(err, ErrClosed) {
				t.Errorf("Set after Close: %v, want ErrClosed", err)
			}
			if pin.Read() != tc.off {
				t.Errorf("Set after Close changed the pin to %s", pin.Read())
			}
		})
	}
}

// failingPin is an output whose Out fails once fail is set.
type failingPin struct {
	gpiotest.Pin
	fail bool
}

var errPin = errors.New("gpio: device busy")

func (p *failingPin) Out(l gpio.Level) error {
	if p.fail {
		return errPin
	}
	return p.Pin.Out(l)
}

func TestOutputErrors(t *testing.T) {
	p := &failingPin{Pin: gpiotest.Pin{N: "GPIO22"}}
	o, err := OpenOutput(p, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Set(true); err != nil {
		t.Fatal(err)
	}
	p.fail = true
	err = o.Set(false)
	if !errors.Is(err, errPin) || !strings.Contains(err.Error(), "GPIO22") {
		t.Fatalf("Set: %v, want the pin error naming the pin", err)
	}
	if !o.On() {
		t.Error("a failed Set(false) changed the state")
	}
	if err := o.Close(); !errors.Is(err, errPin) {
		t.Errorf("Close: %v, want the pin error", err)
	}
	if _, err := OpenOutput(p, true); !errors.Is(err, errPin) {
		t.Errorf("OpenOutput on a failing pin: %v", err)
	}
	if _, err := OpenOutput(nil, false); err == nil {
		t.Error("OpenOutput(nil) succeeded")
	}
}

// wiredPin is an output wired to a gpiotest input: each level it drives
// arrives at the input as an edge.
type wiredPin struct {
	gpiotest.Pin
	to        *gpiotest.Pin
	stuckHigh bool // the wire reads High whatever is driven
}

func (p *wiredPin) Out(l gpio.Level) error {
	if p.stuckHigh {
		l = gpio.High
	}
	if err := p.Pin.Out(l); err != nil {
		return err
	}
	select {
	case p.to.EdgesChan <- l:
	default: // the input is not listening (edge detection off): no edge kept
	}
	return nil
}

func TestCheckLoopback(t *testing.T) {
	newPair := func() (*wiredPin, *gpiotest.Pin) {
		in := &gpiotest.Pin{N: "GPIO24", EdgesChan: make(chan gpio.Level, 1)}
		return &wiredPin{Pin: gpiotest.Pin{N: "GPIO23"}, to: in}, in
	}
	t.Run("wired", func(t *testing.T) {
		out, in := newPair()
		if err := CheckLoopback(out, in, 5, 0); err != nil {
			t.Fatal(err)
		}
		if out.Read() != gpio.Low {
			t.Error("the output is not left low")
		}
	})
	t.Run("stuck high", func(t *testing.T) {
		out, in := newPair()
		out.stuckHigh = true
		err := CheckLoopback(out, in, 4, 0)
		if err == nil || !strings.Contains(err.Error(), "toggle 1: GPIO23(0) driven Low, GPIO24(0) reads High") {
			t.Fatalf("CheckLoopback: %v", err)
		}
	})
	t.Run("not wired", func(t *testing.T) {
		out, in := newPair()
		out.to = &gpiotest.Pin{EdgesChan: make(chan gpio.Level, 1)} // elsewhere
		err := CheckLoopback(out, in, 1, time.Millisecond)
		if err == nil || !strings.Contains(err.Error(), "no edge on GPIO24(0)") {
			t.Fatalf("CheckLoopback: %v", err)
		}
	})
}
