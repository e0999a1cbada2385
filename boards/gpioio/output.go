package gpioio

import (
	"errors"
	"fmt"
	"sync"

	"github.com/edgerun/edgerun/boards"
	"periph.io/x/conn/v3/gpio"
)

// Output drives an output pin on or off. It implements boards.Actuator.
type Output struct {
	pin       gpio.PinOut
	activeLow bool
	mu        sync.Mutex
	on        bool
	closed    bool
}

var _ boards.Actuator = (*Output)(nil)

// OpenOutput drives pin off and returns it as an Actuator. With activeLow,
// on is gpio.Low and off gpio.High; otherwise on is High.
func OpenOutput(pin gpio.PinOut, activeLow bool) (*Output, error) {
	if pin == nil {
		return nil, errors.New("gpioio: nil pin")
	}
	o := &Output{pin: pin, activeLow: activeLow}
	if err := o.drive(false); err != nil {
		return nil, err
	}
	return o, nil
}

func (o *Output) level(on bool) gpio.Level {
	return gpio.Level(on != o.activeLow)
}

func (o *Output) drive(on bool) error {
	l := o.level(on)
	if err := o.pin.Out(l); err != nil {
		return fmt.Errorf("gpioio: drive %s %s (%s): %w", o.pin, l, onOff(on), err)
	}
	o.on = on
	return nil
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// String names the pin and its polarity.
func (o *Output) String() string {
	if o.activeLow {
		return fmt.Sprintf("%s (active low)", o.pin)
	}
	return fmt.Sprintf("%s (active high)", o.pin)
}

// Set drives the pin on or off. On an error the state is unchanged.
func (o *Output) Set(on bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return ErrClosed
	}
	return o.drive(on)
}

// On reports whether the last successful Set (or OpenOutput, off) left it on.
func (o *Output) On() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.on
}

// Close drives the pin off and keeps it driven off; later Sets return
// ErrClosed. Calling Close again drives it off again.
func (o *Output) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closed = true
	return o.drive(false)
}
