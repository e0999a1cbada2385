package gpioio

import (
	"errors"
	"fmt"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// CheckLoopback is the hardware check for GPIO on a real board, for a board
// test or the pipeline command to run (unit tests use fakes instead): with
// out wired to in (directly or through a resistor), it configures in with
// BothEdges and no pull change, then drives out High and Low toggles times
// (4 when toggles <= 0), and checks that in reports an edge within timeout
// (1 s when timeout <= 0) and reads the level driven. It leaves out Low and
// in with NoEdge. The error names the toggle and what was seen.
func CheckLoopback(out gpio.PinOut, in gpio.PinIn, toggles int, timeout time.Duration) error {
	if out == nil || in == nil {
		return errors.New("gpioio: loopback check needs an output and an input pin")
	}
	if toggles <= 0 {
		toggles = 4
	}
	if timeout <= 0 {
		timeout = time.Second
	}
	if err := out.Out(gpio.Low); err != nil {
		return fmt.Errorf("gpioio: loopback: drive %s low: %w", out, err)
	}
	if err := in.In(gpio.PullNoChange, gpio.BothEdges); err != nil {
		return fmt.Errorf("gpioio: loopback: %s as input: %w", in, err)
	}
	var err error
	for i := 0; i < toggles && err == nil; i++ {
		l := gpio.Level(i%2 == 0)
		if e := out.Out(l); e != nil {
			err = fmt.Errorf("gpioio: loopback toggle %d: drive %s %s: %w", i, out, l, e)
		} else if !in.WaitForEdge(timeout) {
			err = fmt.Errorf("gpioio: loopback toggle %d: %s driven %s, no edge on %s within %v (is it wired?)", i, out, l, in, timeout)
		} else if got := in.Read(); got != l {
			err = fmt.Errorf("gpioio: loopback toggle %d: %s driven %s, %s reads %s", i, out, l, in, got)
		}
	}
	return errors.Join(err, out.Out(gpio.Low), in.In(gpio.PullNoChange, gpio.NoEdge))
}
