package adxl345

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"
)

// The register traffic below is written by hand from the ADXL345 datasheet's
// register map: DEVID 0x00 reads 0xE5; POWER_CTL 0x2D, FIFO_CTL 0x38, BW_RATE
// 0x2C and DATA_FORMAT 0x31 are single-byte writes (register, value); the
// six data registers from DATAX0 0x32 are read in one burst, little-endian
// two's complement per axis.

func initOps(addr uint16, bwRate, format byte) []i2ctest.IO {
	return []i2ctest.IO{
		{Addr: addr, W: []byte{0x00}, R: []byte{0xE5}},
		{Addr: addr, W: []byte{0x2D, 0x00}},
		{Addr: addr, W: []byte{0x38, 0x00}},
		{Addr: addr, W: []byte{0x2C, bwRate}},
		{Addr: addr, W: []byte{0x31, format}},
		{Addr: addr, W: []byte{0x2D, 0x08}},
	}
}

func dataOp(addr uint16, x, y, z int16) i2ctest.IO {
	r := make([]byte, 0, 6)
	for _, v := range []int16{x, y, z} {
		r = append(r, byte(uint16(v)), byte(uint16(v)>>8))
	}
	return i2ctest.IO{Addr: addr, W: []byte{0x32}, R: r}
}

func standbyOp(addr uint16) i2ctest.IO {
	return i2ctest.IO{Addr: addr, W: []byte{0x2D, 0x00}}
}

func ops(parts ...any) []i2ctest.IO {
	var out []i2ctest.IO
	for _, p := range parts {
		switch p := p.(type) {
		case i2ctest.IO:
			out = append(out, p)
		case []i2ctest.IO:
			out = append(out, p...)
		}
	}
	return out
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func fixedNow() func() time.Time {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	n := 0
	return func() time.Time { n++; return t0.Add(time.Duration(n) * time.Millisecond) }
}

func TestReadConvertsToG(t *testing.T) {
	const a = 0x53
	pb := &i2ctest.Playback{DontPanic: true, Ops: ops(
		initOps(a, 0x0A, 0x08), // 100 Hz; full resolution, ±2 g
		dataOp(a, 0, 0, 256),
		dataOp(a, -256, 128, -1),
		dataOp(a, 4095, -4096, 0), // the 13-bit extremes at ±16 g
		standbyOp(a),
	)}
	d, err := Open(pb, Options{Now: fixedNow()})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(d.Channels(), ","); got != "x,y,z" {
		t.Errorf("Channels() = %s, want x,y,z", got)
	}
	want := [][3]float64{
		{0, 0, 256 * 0.0039},
		{-256 * 0.0039, 128 * 0.0039, -0.0039},
		{4095 * 0.0039, -4096 * 0.0039, 0},
	}
	var last time.Time
	for i, w := range want {
		r, err := d.Read(context.Background())
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		if len(r.Values) != 3 {
			t.Fatalf("read %d: %d values, want 3", i, len(r.Values))
		}
		for j := range w {
			if !near(r.Values[j], w[j]) {
				t.Errorf("read %d channel %d = %v g, want %v", i, j, r.Values[j], w[j])
			}
		}
		if !r.Time.After(last) {
			t.Errorf("read %d: time %v not after %v", i, r.Time, last)
		}
		last = r.Time
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestReadConvertsToMetresPerSecondSquared(t *testing.T) {
	const a = 0x1D
	pb := &i2ctest.Playback{DontPanic: true, Ops: ops(
		initOps(a, 0x0F, 0x0B), // 3200 Hz; full resolution, ±16 g
		dataOp(a, 256, -256, 1),
		standbyOp(a),
	)}
	d, err := Open(pb, Options{Addr: AddrAlt, RangeG: 16, Rate: 3200, Unit: "m/s2", Channels: []string{"ax", "ay", "az"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(d.Channels(), ","); got != "ax,ay,az" {
		t.Errorf("Channels() = %s, want ax,ay,az", got)
	}
	r, err := d.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	g := 0.0039 * 9.80665
	for j, w := range []float64{256 * g, -256 * g, g} {
		if !near(r.Values[j], w) {
			t.Errorf("channel %d = %v m/s², want %v", j, r.Values[j], w)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOptionsSelectRegisterValues(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   Options
		rate   byte
		format byte
	}{
		{"defaults", Options{}, 0x0A, 0x08},
		{"4g/50Hz", Options{RangeG: 4, Rate: 50}, 0x09, 0x09},
		{"8g/12.5Hz", Options{RangeG: 8, Rate: 12.5}, 0x07, 0x0A},
		{"16g/0.1Hz", Options{RangeG: 16, Rate: 0.1}, 0x00, 0x0B},
		{"2g/3.125Hz", Options{RangeG: 2, Rate: 3.125}, 0x05, 0x08},
		{"2g/800Hz", Options{Rate: 800}, 0x0D, 0x08},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pb := &i2ctest.Playback{DontPanic: true, Ops: ops(initOps(0x53, tc.rate, tc.format), standbyOp(0x53))}
			d, err := Open(pb, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			if err := pb.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestWrongDevID(t *testing.T) {
	pb := &i2ctest.Playback{DontPanic: true, Ops: []i2ctest.IO{
		{Addr: 0x53, W: []byte{0x00}, R: []byte{0x68}},
	}}
	_, err := Open(pb, Options{})
	if !errors.Is(err, ErrWrongDevice) {
		t.Fatalf("Open: %v, want ErrWrongDevice", err)
	}
	for _, s := range []string{"0x68", "0xe5", "0x53"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %s", err, s)
		}
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
}

// flakyBus passes transactions to Bus except the ones whose index (from 0)
// is in fail, which it answers with an error as a sensor that stopped
// answering would (a NACK), consuming nothing.
type flakyBus struct {
	i2c.Bus
	mu   sync.Mutex
	n    int
	fail map[int]bool
}

var errNack = errors.New("i2c: no ACK")

func (b *flakyBus) Tx(addr uint16, w, r []byte) error {
	b.mu.Lock()
	n := b.n
	b.n++
	b.mu.Unlock()
	if b.fail[n] {
		return errNack
	}
	return b.Bus.Tx(addr, w, r)
}

func TestBusErrorMidStreamIsNotFatal(t *testing.T) {
	const a = 0x53
	pb := &i2ctest.Playback{DontPanic: true, Ops: ops(
		initOps(a, 0x0A, 0x08),
		dataOp(a, 1, 2, 3),
		// Tx 7 (a data read) fails: no traffic recorded.
		// Tx 8 (the DEVID read of the reconfiguration) fails too.
		// Then the sensor answers again: reconfigure and read.
		initOps(a, 0x0A, 0x08),
		dataOp(a, 4, 5, 6),
		dataOp(a, 7, 8, 9),
		standbyOp(a),
	)}
	bus := &flakyBus{Bus: pb, fail: map[int]bool{7: true, 8: true}}
	d, err := Open(bus, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	check := func(i int, want ...int16) {
		t.Helper()
		r, err := d.Read(ctx)
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		for j, w := range want {
			if !near(r.Values[j], float64(w)*0.0039) {
				t.Errorf("read %d channel %d = %v, want %v", i, j, r.Values[j], float64(w)*0.0039)
			}
		}
	}
	check(0, 1, 2, 3)
	_, err = d.Read(ctx)
	if !errors.Is(err, errNack) || !strings.Contains(err.Error(), "DATAX0") {
		t.Fatalf("read 1: %v, want the bus error on DATAX0..DATAZ1", err)
	}
	_, err = d.Read(ctx)
	if !errors.Is(err, errNack) || !strings.Contains(err.Error(), "DEVID") {
		t.Fatalf("read 2: %v, want the bus error on DEVID", err)
	}
	check(3, 4, 5, 6)
	check(4, 7, 8, 9)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestReadAfterCloseAndCancelledContext(t *testing.T) {
	pb := &i2ctest.Playback{DontPanic: true, Ops: ops(initOps(0x53, 0x0A, 0x08), standbyOp(0x53))}
	d, err := Open(pb, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Read(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Read with a cancelled context: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := d.Read(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after Close: %v, want ErrClosed", err)
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOptionsValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"address", Options{Addr: 0x68}, "address 0x68"},
		{"range", Options{RangeG: 3}, "range ±3 g"},
		{"negative range", Options{RangeG: -2}, "range ±-2 g"},
		{"rate", Options{Rate: 1000}, "output data rate 1000 Hz"},
		{"negative rate", Options{Rate: -100}, "output data rate -100 Hz"},
		{"unit", Options{Unit: "mg"}, `unit "mg"`},
		{"two channels", Options{Channels: []string{"a", "b"}}, "2 channel names"},
		{"empty channel", Options{Channels: []string{"a", " ", "c"}}, "channel 1 has an empty name"},
		{"duplicate channel", Options{Channels: []string{"a", "b", "a"}}, `"a" given twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pb := &i2ctest.Playback{DontPanic: true} // no traffic expected
			_, err := Open(pb, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open: %v, want an error containing %q", err, tc.want)
			}
			if pb.Count != 0 {
				t.Errorf("%d bus transactions before the options were rejected", pb.Count)
			}
		})
	}
	if _, err := Open(nil, Options{}); err == nil {
		t.Error("Open(nil bus) succeeded")
	}
}

func TestCheck(t *testing.T) {
	const a = 0x53
	t.Run("at rest", func(t *testing.T) {
		pb := &i2ctest.Playback{DontPanic: true, Ops: ops(
			initOps(a, 0x0F, 0x08),
			dataOp(a, 3, -2, 255), dataOp(a, -3, 2, 257), dataOp(a, 0, 0, 256),
			standbyOp(a),
		)}
		res, err := Check(context.Background(), pb, Options{Rate: 3200}, 3)
		if err != nil {
			t.Fatal(err)
		}
		if res.Samples != 3 || !near(res.Mean[2], 256*0.0039) || !near(res.Magnitude, 256*0.0039) {
			t.Errorf("Check = %+v, want 3 samples with mean (0, 0, %v)", res, 256*0.0039)
		}
		if err := pb.Close(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("implausible", func(t *testing.T) {
		pb := &i2ctest.Playback{DontPanic: true, Ops: ops(
			initOps(a, 0x0F, 0x08), dataOp(a, 0, 0, 0), dataOp(a, 0, 0, 0), standbyOp(a),
		)}
		_, err := Check(context.Background(), pb, Options{Rate: 3200}, 2)
		if err == nil || !strings.Contains(err.Error(), "mean acceleration at rest is 0.000 g") {
			t.Fatalf("Check: %v, want an implausible-magnitude error", err)
		}
		if err := pb.Close(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("no device", func(t *testing.T) {
		bus := &flakyBus{Bus: &i2ctest.Playback{DontPanic: true}, fail: map[int]bool{0: true}}
		if _, err := Check(context.Background(), bus, Options{}, 1); !errors.Is(err, errNack) {
			t.Fatalf("Check: %v, want the bus error", err)
		}
	})
}
