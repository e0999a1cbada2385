// Package adxl345 reads an Analog Devices ADXL345 three-axis accelerometer
// over I²C, as a boards.Source.
//
// The driver is written against periph.io/x/conn/v3/i2c only: it takes an
// i2c.Bus (which the application owns and closes) and talks to the device at
// 0x53 (ALT ADDRESS pin low, the usual wiring on HATs and breakouts) or 0x1D
// (ALT ADDRESS high).
//
// Open reads DEVID (register 0x00) and refuses anything but 0xE5, then puts
// the device in standby (POWER_CTL 0x2D = 0), selects bypass FIFO mode
// (FIFO_CTL 0x38 = 0), writes the output data rate to BW_RATE (0x2C, normal
// power), writes DATA_FORMAT (0x31) with FULL_RES set, right-justified, and
// the range bits for ±2, ±4, ±8 or ±16 g, and finally sets the Measure bit
// (POWER_CTL = 0x08).
//
// Each Read takes the latest sample: one I²C transaction that writes the
// register address 0x32 and reads the six data registers DATAX0..DATAZ1 in a
// burst (as the datasheet asks, so that no axis changes between reads). Each
// axis is a little-endian 16-bit two's complement value; in full-resolution
// mode the scale is 3.9 mg/LSB at every range (the datasheet's typical scale
// factor, ScaleFullRes). Values are in g (standard gravity) by default, or
// in m/s² (g × 9.80665) with Unit "m/s2". Channels are named "x", "y", "z"
// unless Options.Channels names them otherwise.
//
// Read does not wait for new data: reading faster than the output data rate
// returns the same sample again, so a pipeline should sample at or below
// Options.Rate. A failed transaction makes Read return an error and is not
// fatal: the next Read first redoes the DEVID check and the configuration
// writes (a sensor that lost power comes back in standby), then reads.
// Close puts the device back in standby (POWER_CTL = 0); it does not close
// the bus.
//
// This package imports only the standard library, periph.io/x/conn/v3 and
// boards.
package adxl345

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/edgerun/edgerun/boards"
	"periph.io/x/conn/v3/i2c"
)

// I²C addresses of the ADXL345.
const (
	AddrDefault = 0x53 // ALT ADDRESS pin low
	AddrAlt     = 0x1D // ALT ADDRESS pin high
)

// Registers and values of the ADXL345 register map used by this driver.
const (
	RegDevID      = 0x00
	RegBWRate     = 0x2C
	RegPowerCtl   = 0x2D
	RegDataFormat = 0x31
	RegDataX0     = 0x32 // DATAX0, DATAX1, DATAY0, DATAY1, DATAZ0, DATAZ1 follow
	RegFIFOCtl    = 0x38

	DevID = 0xE5 // the fixed content of DEVID

	PowerMeasure  = 0x08 // POWER_CTL Measure bit
	FormatFullRes = 0x08 // DATA_FORMAT FULL_RES bit
)

// ScaleFullRes is the full-resolution scale factor in g per LSB (3.9 mg/LSB,
// the datasheet's typical value at every range).
const ScaleFullRes = 0.0039

// StandardGravity converts g to m/s².
const StandardGravity = 9.80665

// rateCodes maps an output data rate in Hz to its BW_RATE rate code
// (normal power mode; the datasheet's table of rate codes 0x0 to 0xF).
var rateCodes = []struct {
	hz   float64
	code byte
}{
	{0.10, 0x0}, {0.20, 0x1}, {0.39, 0x2}, {0.78, 0x3},
	{1.56, 0x4}, {3.13, 0x5}, {6.25, 0x6}, {12.5, 0x7},
	{25, 0x8}, {50, 0x9}, {100, 0xA}, {200, 0xB},
	{400, 0xC}, {800, 0xD}, {1600, 0xE}, {3200, 0xF},
}

// rangeCodes maps a range in ±g to the DATA_FORMAT range bits D1..D0.
var rangeCodes = map[int]byte{2: 0x0, 4: 0x1, 8: 0x2, 16: 0x3}

// Options configure a Dev. The zero value means: address 0x53, ±2 g,
// 100 Hz, channels x, y, z, values in g.
type Options struct {
	// Addr is the I²C address: 0x53 (AddrDefault, used when 0) or 0x1D.
	Addr uint16
	// RangeG is the measurement range, ±2, ±4, ±8 or ±16 g (2 when 0).
	// The scale stays 3.9 mg/LSB (full resolution); the range only sets
	// where the readings clip.
	RangeG int
	// Rate is the output data rate in Hz, one of 0.10, 0.20, 0.39, 0.78,
	// 1.56, 3.13, 6.25, 12.5, 25, 50, 100, 200, 400, 800, 1600, 3200
	// (100 when 0). The device low-pass filters at half of it.
	Rate float64
	// Channels names the x, y and z values (three distinct non-empty
	// names; "x", "y", "z" when nil).
	Channels []string
	// Unit is "g" (the default when empty) or "m/s2".
	Unit string
	// Now gives the time stamped on readings (time.Now when nil).
	Now func() time.Time
}

// config is the validated form of Options.
type config struct {
	addr     uint16
	rangeG   int
	bwRate   byte
	format   byte
	channels []string
	scale    float64
	now      func() time.Time
}

func (o Options) validate() (config, error) {
	c := config{addr: o.Addr, rangeG: o.RangeG, now: o.Now, scale: ScaleFullRes}
	if c.addr == 0 {
		c.addr = AddrDefault
	}
	if c.addr != AddrDefault && c.addr != AddrAlt {
		return c, fmt.Errorf("adxl345: address %#x: the ADXL345 answers at 0x53 or 0x1d", o.Addr)
	}
	if c.rangeG == 0 {
		c.rangeG = 2
	}
	rc, ok := rangeCodes[c.rangeG]
	if !ok {
		return c, fmt.Errorf("adxl345: range ±%d g: want 2, 4, 8 or 16", o.RangeG)
	}
	c.format = FormatFullRes | rc
	rate := o.Rate
	if rate == 0 {
		rate = 100
	}
	found := false
	for _, r := range rateCodes {
		// The table's rates are rounded (3.13 for 3.125); accept within 1%.
		if rate > r.hz*0.99 && rate < r.hz*1.01 {
			c.bwRate, found = r.code, true
			break
		}
	}
	if !found {
		return c, fmt.Errorf("adxl345: output data rate %g Hz: want one of 0.10, 0.20, 0.39, 0.78, 1.56, 3.13, 6.25, 12.5, 25, 50, 100, 200, 400, 800, 1600, 3200", o.Rate)
	}
	switch o.Unit {
	case "", "g":
	case "m/s2", "m/s²":
		c.scale *= StandardGravity
	default:
		return c, fmt.Errorf("adxl345: unit %q: want \"g\" or \"m/s2\"", o.Unit)
	}
	c.channels = []string{"x", "y", "z"}
	if o.Channels != nil {
		if len(o.Channels) != 3 {
			return c, fmt.Errorf("adxl345: %d channel names: want 3 (x, y, z)", len(o.Channels))
		}
		seen := map[string]bool{}
		for i, n := range o.Channels {
			if strings.TrimSpace(n) == "" {
				return c, fmt.Errorf("adxl345: channel %d has an empty name", i)
			}
			if seen[n] {
				return c, fmt.Errorf("adxl345: channel name %q given twice", n)
			}
			seen[n] = true
		}
		c.channels = append([]string(nil), o.Channels...)
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// ErrWrongDevice is returned (wrapped) when DEVID is not 0xE5.
var ErrWrongDevice = errors.New("adxl345: not an ADXL345")

// ErrClosed is returned by Read after Close.
var ErrClosed = errors.New("adxl345: closed")

// Dev is an open ADXL345. It implements boards.Source. Its methods may be
// called from several goroutines; transactions are serialised.
type Dev struct {
	dev  i2c.Dev
	cfg  config
	mu   sync.Mutex
	init bool // configured; false after a failed transaction
	done bool
	buf  [6]byte
}

var _ boards.Source = (*Dev)(nil)

// Open checks the device at opts.Addr on bus and configures it. The bus
// stays the caller's.
func Open(bus i2c.Bus, opts Options) (*Dev, error) {
	if bus == nil {
		return nil, errors.New("adxl345: nil bus")
	}
	cfg, err := opts.validate()
	if err != nil {
		return nil, err
	}
	d := &Dev{dev: i2c.Dev{Bus: bus, Addr: cfg.addr}, cfg: cfg}
	if err := d.configure(); err != nil {
		return nil, err
	}
	return d, nil
}

// configure checks DEVID and writes the configuration; d.mu is held or d
// is not shared yet.
func (d *Dev) configure() error {
	var id [1]byte
	if err := d.dev.Tx([]byte{RegDevID}, id[:]); err != nil {
		return fmt.Errorf("adxl345: read DEVID at %s: %w", d.addrString(), err)
	}
	if id[0] != DevID {
		return fmt.Errorf("%w: DEVID at %s is 0x%02x, want 0xe5 (is another device at this address, or the wiring wrong?)", ErrWrongDevice, d.addrString(), id[0])
	}
	writes := []struct {
		name string
		reg  byte
		val  byte
	}{
		{"POWER_CTL (standby)", RegPowerCtl, 0},
		{"FIFO_CTL (bypass)", RegFIFOCtl, 0},
		{"BW_RATE", RegBWRate, d.cfg.bwRate},
		{"DATA_FORMAT", RegDataFormat, d.cfg.format},
		{"POWER_CTL (measure)", RegPowerCtl, PowerMeasure},
	}
	for _, w := range writes {
		if err := d.dev.Tx([]byte{w.reg, w.val}, nil); err != nil {
			return fmt.Errorf("adxl345: write %s at %s: %w", w.name, d.addrString(), err)
		}
	}
	d.init = true
	return nil
}

func (d *Dev) addrString() string {
	return fmt.Sprintf("%s address 0x%02x", d.dev.Bus, d.cfg.addr)
}

// Channels returns the names of the x, y and z values.
func (d *Dev) Channels() []string { return append([]string(nil), d.cfg.channels...) }

// String names the device and its bus.
func (d *Dev) String() string { return "ADXL345 on " + d.addrString() }

// Read reads the latest x, y and z acceleration, in g or m/s² (Options.Unit).
// After a failed transaction it reconfigures the device first.
func (d *Dev) Read(ctx context.Context) (boards.Reading, error) {
	if err := ctx.Err(); err != nil {
		return boards.Reading{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.done {
		return boards.Reading{}, ErrClosed
	}
	if !d.init {
		if err := d.configure(); err != nil {
			return boards.Reading{}, err
		}
	}
	if err := d.dev.Tx([]byte{RegDataX0}, d.buf[:]); err != nil {
		d.init = false
		return boards.Reading{}, fmt.Errorf("adxl345: read DATAX0..DATAZ1 at %s: %w", d.addrString(), err)
	}
	t := d.cfg.now()
	v := make([]float64, 3)
	for i := range v {
		raw := int16(uint16(d.buf[2*i]) | uint16(d.buf[2*i+1])<<8)
		v[i] = float64(raw) * d.cfg.scale
	}
	return boards.Reading{Time: t, Values: v}, nil
}

// Close puts the device in standby (POWER_CTL = 0). The bus stays open.
// Calling Close again does nothing.
func (d *Dev) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.done {
		return nil
	}
	d.done = true
	if err := d.dev.Tx([]byte{RegPowerCtl, 0}, nil); err != nil {
		return fmt.Errorf("adxl345: write POWER_CTL (standby) at %s: %w", d.addrString(), err)
	}
	return nil
}
