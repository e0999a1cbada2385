// Package i2creg reads any I²C device described by its register map, as a
// boards.Source: a device address, the writes that configure it, and the
// registers that hold its values. (It is not periph's i2c/i2creg, the
// registry of buses.)
//
// Open validates the Options, then performs the init writes in order, each
// one transaction writing the register address followed by its value bytes.
// Each Read then reads every channel: a channel is Size bytes (1, 2 or 4)
// from register Reg, an unsigned or two's complement integer, big- or
// little-endian, turned into Raw × Scale + Offset (so the unit is whatever
// Scale and Offset make it). Channels whose registers are contiguous or
// overlap (sorted by register) are read in one transaction that writes the
// first register address and reads the whole run, which assumes the common
// byte-addressed register file with auto-increment (BME280, MPU-6050,
// ADXL345). For devices whose register pointer does not auto-increment that
// way, such as the ADS1115's 16-bit registers, or whose reads have side
// effects, set PerChannel: one transaction per channel.
//
// Read returns values in the order of Options.Channels. It takes what the
// registers hold when called; it neither waits for new data nor starts
// conversions, so the device must be configured (by the init writes) to
// measure continuously. A failed transaction makes Read return an error and
// is not fatal: the next Read repeats the init writes first (a device that
// lost power has lost its configuration), then reads. Close performs the
// close writes (for example, back to sleep mode); it does not close the bus.
//
// This package imports only the standard library, periph.io/x/conn/v3 and
// boards.
package i2creg

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/edgerun/edgerun/boards"
	"periph.io/x/conn/v3/i2c"
)

// Write is one configuration write: the register address, then Values (which
// may be empty for a command that is only the register byte).
type Write struct {
	Reg    byte
	Values []byte
}

// Channel is one value read from the device's registers.
type Channel struct {
	Name      string  // unique, non-empty
	Reg       byte    // first register
	Size      int     // bytes: 1, 2 or 4
	Signed    bool    // two's complement, else unsigned
	BigEndian bool    // most significant byte first (at Reg), else least
	Scale     float64 // value = raw × Scale + Offset; 0 means 1
	Offset    float64
}

// Options describe a device.
type Options struct {
	// Addr is the device's I²C address (7-bit 0x01..0x7F, or 10-bit up to
	// 0x3FF).
	Addr uint16
	// Init are written in order by Open, and again by the first Read after
	// a failed transaction.
	Init []Write
	// Close are written in order by Close.
	Close []Write
	// Channels are the values of each reading, at least one.
	Channels []Channel
	// PerChannel reads each channel in its own transaction instead of one
	// per run of contiguous registers.
	PerChannel bool
	// Now gives the time stamped on readings (time.Now when nil).
	Now func() time.Time
}

// run is one read transaction: registers [start, start+len(buf)).
type run struct {
	start byte
	buf   []byte
	chans []int // indices into Options.Channels
}

func (o Options) validate() ([]run, error) {
	if o.Addr == 0 || o.Addr > 0x3FF {
		return nil, fmt.Errorf("i2creg: address %#x: want 0x01..0x7f (7-bit) or up to 0x3ff (10-bit)", o.Addr)
	}
	if len(o.Channels) == 0 {
		return nil, errors.New("i2creg: no channels")
	}
	seen := map[string]bool{}
	for i, c := range o.Channels {
		if strings.TrimSpace(c.Name) == "" {
			return nil, fmt.Errorf("i2creg: channel %d has an empty name", i)
		}
		if seen[c.Name] {
			return nil, fmt.Errorf("i2creg: channel %d: name %q given twice", i, c.Name)
		}
		seen[c.Name] = true
		switch c.Size {
		case 1, 2, 4:
		default:
			return nil, fmt.Errorf("i2creg: channel %q: size %d: want 1, 2 or 4 bytes", c.Name, c.Size)
		}
		if int(c.Reg)+c.Size > 256 {
			return nil, fmt.Errorf("i2creg: channel %q: %d bytes from register 0x%02x run past register 0xff", c.Name, c.Size, c.Reg)
		}
		if math.IsNaN(c.Scale) || math.IsInf(c.Scale, 0) || math.IsNaN(c.Offset) || math.IsInf(c.Offset, 0) {
			return nil, fmt.Errorf("i2creg: channel %q: scale %v and offset %v must be finite", c.Name, c.Scale, c.Offset)
		}
	}
	idx := make([]int, len(o.Channels))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return o.Channels[idx[a]].Reg < o.Channels[idx[b]].Reg })
	var runs []run
	var end int // one past the last register of the current run
	for _, i := range idx {
		c := o.Channels[i]
		cEnd := int(c.Reg) + c.Size
		if len(runs) > 0 && !o.PerChannel && int(c.Reg) <= end {
			r := &runs[len(runs)-1]
			r.chans = append(r.chans, i)
			end = max(end, cEnd)
			continue
		}
		if len(runs) > 0 {
			runs[len(runs)-1].buf = make([]byte, end-int(runs[len(runs)-1].start))
		}
		runs = append(runs, run{start: c.Reg, chans: []int{i}})
		end = cEnd
	}
	runs[len(runs)-1].buf = make([]byte, end-int(runs[len(runs)-1].start))
	return runs, nil
}

// ErrClosed is returned by Read after Close.
var ErrClosed = errors.New("i2creg: closed")

// Dev is an open register-map device. It implements boards.Source. Its
// methods may be called from several goroutines; transactions are
// serialised.
type Dev struct {
	dev   i2c.Dev
	opts  Options
	runs  []run
	names []string
	now   func() time.Time

	mu   sync.Mutex
	init bool // init writes done; false after a failed transaction
	done bool
}

var _ boards.Source = (*Dev)(nil)

// Open validates opts and performs the init writes on the device at
// opts.Addr on bus. The bus stays the caller's.
func Open(bus i2c.Bus, opts Options) (*Dev, error) {
	if bus == nil {
		return nil, errors.New("i2creg: nil bus")
	}
	runs, err := opts.validate()
	if err != nil {
		return nil, err
	}
	opts.Channels = append([]Channel(nil), opts.Channels...)
	opts.Init = cloneWrites(opts.Init)
	opts.Close = cloneWrites(opts.Close)
	d := &Dev{dev: i2c.Dev{Bus: bus, Addr: opts.Addr}, opts: opts, runs: runs, now: opts.Now}
	if d.now == nil {
		d.now = time.Now
	}
	for _, c := range opts.Channels {
		d.names = append(d.names, c.Name)
	}
	if err := d.writeAll("init", opts.Init); err != nil {
		return nil, err
	}
	d.init = true
	return d, nil
}

func cloneWrites(ws []Write) []Write {
	out := make([]Write, len(ws))
	for i, w := range ws {
		out[i] = Write{Reg: w.Reg, Values: append([]byte(nil), w.Values...)}
	}
	return out
}

func (d *Dev) writeAll(what string, ws []Write) error {
	for i, w := range ws {
		b := append([]byte{w.Reg}, w.Values...)
		if err := d.dev.Tx(b, nil); err != nil {
			return fmt.Errorf("i2creg: %s write %d (register 0x%02x) at %s: %w", what, i, w.Reg, d.where(), err)
		}
	}
	return nil
}

func (d *Dev) where() string {
	return fmt.Sprintf("%s address 0x%02x", d.dev.Bus, d.opts.Addr)
}

// String names the device and its bus.
func (d *Dev) String() string { return "I²C registers on " + d.where() }

// Channels returns the channel names in Options order.
func (d *Dev) Channels() []string { return append([]string(nil), d.names...) }

// Read reads every channel, in Options.Channels order. After a failed
// transaction it repeats the init writes first.
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
		if err := d.writeAll("init", d.opts.Init); err != nil {
			return boards.Reading{}, err
		}
		d.init = true
	}
	for _, r := range d.runs {
		if err := d.dev.Tx([]byte{r.start}, r.buf); err != nil {
			d.init = false
			return boards.Reading{}, fmt.Errorf("i2creg: read %d bytes from register 0x%02x at %s: %w", len(r.buf), r.start, d.where(), err)
		}
	}
	t := d.now()
	v := make([]float64, len(d.opts.Channels))
	for _, r := range d.runs {
		for _, i := range r.chans {
			c := d.opts.Channels[i]
			off := int(c.Reg - r.start)
			v[i] = decode(c, r.buf[off:off+c.Size])
		}
	}
	return boards.Reading{Time: t, Values: v}, nil
}

// decode turns b (len c.Size) into c's value.
func decode(c Channel, b []byte) float64 {
	var order binary.ByteOrder = binary.LittleEndian
	if c.BigEndian {
		order = binary.BigEndian
	}
	var raw float64
	switch c.Size {
	case 1:
		if c.Signed {
			raw = float64(int8(b[0]))
		} else {
			raw = float64(b[0])
		}
	case 2:
		u := order.Uint16(b)
		if c.Signed {
			raw = float64(int16(u))
		} else {
			raw = float64(u)
		}
	case 4:
		u := order.Uint32(b)
		if c.Signed {
			raw = float64(int32(u))
		} else {
			raw = float64(u)
		}
	}
	scale := c.Scale
	if scale == 0 {
		scale = 1
	}
	return raw*scale + c.Offset
}

// Close performs the close writes. The bus stays open. Calling Close again
// does nothing.
func (d *Dev) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.done {
		return nil
	}
	d.done = true
	return d.writeAll("close", d.opts.Close)
}
