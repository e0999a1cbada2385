package main

import (
	"fmt"
	"sort"
	"sync"

	"periph.io/x/conn/v3/driver/driverreg"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/host/v3"
)

// The periph host drivers (GPIO through the Linux character device and,
// on a Pi up to the 4, the SoC's registers; I²C through /dev/i2c-*) are
// linked here and nowhere else: boards/ sees only periph.io/x/conn/v3
// interfaces, and the commands open real buses and pins by name.

var (
	hostOnce  sync.Once
	hostState *driverreg.State
	hostErr   error
)

// initHost loads periph's host drivers, once per process; later calls
// return the first call's outcome. A driver that finds no hardware (no
// /dev/gpiochip*, no /dev/i2c-*) is listed in State.Skipped or
// State.Failed and is not an error: the error is for a registry that
// cannot be initialised at all.
func initHost() (*driverreg.State, error) {
	hostOnce.Do(func() {
		hostState, hostErr = host.Init()
		if hostErr != nil {
			hostErr = fmt.Errorf("periph host drivers: %w", hostErr)
		}
	})
	return hostState, hostErr
}

// openI2C opens the I²C bus named name: "/dev/i2c-1", "I2C1" or "1"
// (periph's name, alias or number), or the first bus for "". The caller
// closes it.
func openI2C(name string) (i2c.BusCloser, error) {
	if _, err := initHost(); err != nil {
		return nil, err
	}
	bus, err := i2creg.Open(name)
	if err != nil {
		return nil, fmt.Errorf("I²C bus %q: %w (is I²C enabled? raspi-config nonint do_i2c 0; is the user in the i2c group?)", name, err)
	}
	return bus, nil
}

// openPin returns the GPIO pin named name ("GPIO27", or an alias a
// driver registers such as "P1_13").
func openPin(name string) (gpio.PinIO, error) {
	if _, err := initHost(); err != nil {
		return nil, err
	}
	p := gpioreg.ByName(name)
	if p == nil {
		return nil, fmt.Errorf("GPIO pin %q: not found (%d pins known; is the user in the gpio group?)", name, len(gpioreg.All()))
	}
	return p, nil
}

// hostReport is what periph's host drivers found, for `edgerun boards
// --probe`.
type hostReport struct {
	Loaded  []string `json:"drivers_loaded"`
	Skipped []string `json:"drivers_skipped"` // "name: why"
	Failed  []string `json:"drivers_failed"`  // "name: error"
	I2C     []string `json:"i2c_buses"`       // "/dev/i2c-1 (I2C1, 1)"
	GPIO    int      `json:"gpio_pins"`       // pins registered by name
}

// probeHost initialises the host drivers and reports what they found.
func probeHost() (hostReport, error) {
	st, err := initHost()
	if err != nil {
		return hostReport{}, err
	}
	r := hostReport{Loaded: []string{}, Skipped: []string{}, Failed: []string{}, I2C: []string{}}
	for _, d := range st.Loaded {
		r.Loaded = append(r.Loaded, d.String())
	}
	for _, f := range st.Skipped {
		r.Skipped = append(r.Skipped, f.String())
	}
	for _, f := range st.Failed {
		r.Failed = append(r.Failed, f.String())
	}
	for _, ref := range i2creg.All() {
		desc := ref.Name
		if len(ref.Aliases) > 0 || ref.Number >= 0 {
			desc += " ("
			for _, a := range ref.Aliases {
				desc += a + ", "
			}
			desc += fmt.Sprint(ref.Number) + ")"
		}
		r.I2C = append(r.I2C, desc)
	}
	sort.Strings(r.I2C)
	r.GPIO = len(gpioreg.All())
	return r, nil
}
