package gpioio

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgerun/edgerun/boards"
	"periph.io/x/conn/v3/gpio"
)

// Options configure a Counter.
type Options struct {
	// Edge is the edge to count: gpio.RisingEdge (the default for
	// gpio.NoEdge, the zero value), gpio.FallingEdge or gpio.BothEdges.
	Edge gpio.Edge
	// Pull is the pull resistor set with In (the zero value,
	// gpio.PullNoChange, leaves it as it is).
	Pull gpio.Pull
	// Poll is the WaitForEdge timeout (100 ms when 0): how long Close waits
	// at most on a driver whose WaitForEdge the NoEdge reconfiguration does
	// not wake.
	Poll time.Duration
	// Now gives the time of readings and the rate's interval (time.Now
	// when nil).
	Now func() time.Time
}

func (o Options) validate() (Options, error) {
	switch o.Edge {
	case gpio.NoEdge:
		o.Edge = gpio.RisingEdge
	case gpio.RisingEdge, gpio.FallingEdge, gpio.BothEdges:
	default:
		return o, fmt.Errorf("gpioio: edge %d: want rising, falling or both", int(o.Edge))
	}
	switch o.Pull {
	case gpio.PullNoChange, gpio.Float, gpio.PullDown, gpio.PullUp:
	default:
		return o, fmt.Errorf("gpioio: pull %d: want float, down, up or no change", int(o.Pull))
	}
	if o.Poll < 0 {
		return o, fmt.Errorf("gpioio: poll %v is negative", o.Poll)
	}
	if o.Poll == 0 {
		o.Poll = 100 * time.Millisecond
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}

// ErrClosed is returned by Read or Set after Close.
var ErrClosed = errors.New("gpioio: closed")

// Counter counts edges on an input pin. It implements boards.Source with
// the channels "count" and "rate_hz".
type Counter struct {
	pin    gpio.PinIn
	opts   Options
	count  atomic.Uint64
	stop   atomic.Bool
	done   chan struct{}
	edged  func() // test hook, called after each counted edge
	mu     sync.Mutex
	last   time.Time
	closed bool
}

var _ boards.Source = (*Counter)(nil)

// OpenCounter configures pin as an input with opts' pull and edge and starts
// counting.
func OpenCounter(pin gpio.PinIn, opts Options) (*Counter, error) {
	return openCounter(pin, opts, nil)
}

func openCounter(pin gpio.PinIn, opts Options, edged func()) (*Counter, error) {
	if pin == nil {
		return nil, errors.New("gpioio: nil pin")
	}
	opts, err := opts.validate()
	if err != nil {
		return nil, err
	}
	if err := pin.In(opts.Pull, opts.Edge); err != nil {
		return nil, fmt.Errorf("gpioio: %s as input with %s: %w", pin, opts.Edge, err)
	}
	c := &Counter{pin: pin, opts: opts, done: make(chan struct{}), edged: edged, last: opts.Now()}
	go c.loop()
	return c, nil
}

func (c *Counter) loop() {
	defer close(c.done)
	for !c.stop.Load() {
		if c.pin.WaitForEdge(c.opts.Poll) && !c.stop.Load() {
			c.count.Add(1)
			if c.edged != nil {
				c.edged()
			}
		}
	}
}

// String names the pin and the edge counted.
func (c *Counter) String() string { return fmt.Sprintf("%s edges on %s", c.opts.Edge, c.pin) }

// Channels returns "count" and "rate_hz".
func (c *Counter) Channels() []string { return []string{"count", "rate_hz"} }

// Read returns the edges counted since the previous Read (or OpenCounter)
// and their rate in edges per second over that interval (0 when no time
// passed). It does not block.
func (c *Counter) Read(ctx context.Context) (boards.Reading, error) {
	if err := ctx.Err(); err != nil {
		return boards.Reading{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return boards.Reading{}, ErrClosed
	}
	n := c.count.Swap(0)
	t := c.opts.Now()
	rate := 0.0
	if dt := t.Sub(c.last).Seconds(); dt > 0 {
		rate = float64(n) / dt
	}
	c.last = t
	return boards.Reading{Time: t, Values: []float64{float64(n), rate}}, nil
}

// Close stops counting: it reconfigures the pin with NoEdge and waits for
// the counting goroutine to end. Calling Close again does nothing.
func (c *Counter) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	c.stop.Store(true)
	err := c.pin.In(c.opts.Pull, gpio.NoEdge)
	<-c.done
	if err != nil {
		return fmt.Errorf("gpioio: %s: disable edge detection: %w", c.pin, err)
	}
	return nil
}
