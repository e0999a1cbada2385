package i2creg

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func readAll(t *testing.T, d *Dev, want ...[]float64) {
	t.Helper()
	for i, w := range want {
		r, err := d.Read(context.Background())
		if err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		if len(r.Values) != len(w) {
			t.Fatalf("read %d: %d values, want %d", i, len(r.Values), len(w))
		}
		for j := range w {
			if !near(r.Values[j], w[j]) {
				t.Errorf("read %d channel %s = %v, want %v", i, d.Channels()[j], r.Values[j], w[j])
			}
		}
	}
}

func closeBoth(t *testing.T, d *Dev, pb *i2ctest.Playback) {
	t.Helper()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
}

// mpu6050 models an InvenSense MPU-6050 at 0x68 (register map: PWR_MGMT_1
// 0x6B, ACCEL_XOUT_H 0x3B .. GYRO_XOUT_L 0x44, big-endian two's complement;
// ±2 g is 16384 LSB/g, temperature is raw/340 + 36.53 °C, ±250 °/s is
// 131 LSB/(°/s)). The channels are listed out of register order.
func mpu6050() Options {
	return Options{
		Addr: 0x68,
		Init: []Write{{Reg: 0x6B, Values: []byte{0x00}}, {Reg: 0x1C, Values: []byte{0x00}}},
		Channels: []Channel{
			{Name: "temp_c", Reg: 0x41, Size: 2, Signed: true, BigEndian: true, Scale: 1.0 / 340, Offset: 36.53},
			{Name: "ax_g", Reg: 0x3B, Size: 2, Signed: true, BigEndian: true, Scale: 1.0 / 16384},
			{Name: "ay_g", Reg: 0x3D, Size: 2, Signed: true, BigEndian: true, Scale: 1.0 / 16384},
			{Name: "az_g", Reg: 0x3F, Size: 2, Signed: true, BigEndian: true, Scale: 1.0 / 16384},
			{Name: "gx_dps", Reg: 0x43, Size: 2, Signed: true, BigEndian: true, Scale: 1.0 / 131},
		},
	}
}

func mpuInit() []i2ctest.IO {
	return []i2ctest.IO{
		{Addr: 0x68, W: []byte{0x6B, 0x00}},
		{Addr: 0x68, W: []byte{0x1C, 0x00}},
	}
}

func mpuData(ax, ay, az, temp, gx int16) i2ctest.IO {
	var r []byte
	for _, v := range []int16{ax, ay, az, temp, gx} {
		r = append(r, byte(uint16(v)>>8), byte(uint16(v)))
	}
	return i2ctest.IO{Addr: 0x68, W: []byte{0x3B}, R: r}
}

func TestMPU6050OneBurst(t *testing.T) {
	pb := &i2ctest.Playback{DontPanic: true, Ops: append(mpuInit(),
		mpuData(256, -16384, 16384, -1360, 131),
		mpuData(0, 0, 0, 0, -131),
	)}
	d, err := Open(pb, mpu6050())
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(d.Channels(), ","); got != "temp_c,ax_g,ay_g,az_g,gx_dps" {
		t.Errorf("Channels() = %s", got)
	}
	readAll(t, d,
		[]float64{-4 + 36.53, 256.0 / 16384, -1, 1, 1},
		[]float64{36.53, 0, 0, 0, -1},
	)
	closeBoth(t, d, pb)
}

// ads1115 models a TI ADS1115 ADC at 0x48: the init write sets the config
// register (pointer 0x01) to 0xC283, continuous conversion of AIN0 against
// GND at ±4.096 V full scale, 128 SPS, comparator off; the conversion
// register (pointer 0x00) is big-endian two's complement, 125 µV/LSB. Close
// writes the power-on default 0x8583 (single-shot, powered down).
func TestADS1115ConversionRegister(t *testing.T) {
	const a = 0x48
	conv := func(hi, lo byte) i2ctest.IO { return i2ctest.IO{Addr: a, W: []byte{0x00}, R: []byte{hi, lo}} }
	pb := &i2ctest.Playback{DontPanic: true, Ops: []i2ctest.IO{
		{Addr: a, W: []byte{0x01, 0xC2, 0x83}},
		conv(0x7F, 0xFF), conv(0x80, 0x00), conv(0x00, 0x00), conv(0x40, 0x00),
		{Addr: a, W: []byte{0x01, 0x85, 0x83}},
	}}
	d, err := Open(pb, Options{
		Addr:       a,
		Init:       []Write{{Reg: 0x01, Values: []byte{0xC2, 0x83}}},
		Close:      []Write{{Reg: 0x01, Values: []byte{0x85, 0x83}}},
		Channels:   []Channel{{Name: "ain0_v", Reg: 0x00, Size: 2, Signed: true, BigEndian: true, Scale: 4.096 / 32768}},
		PerChannel: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, d, []float64{32767 * 0.000125}, []float64{-4.096}, []float64{0}, []float64{2.048})
	closeBoth(t, d, pb)
}

// synthetic has a 4-byte little-endian unsigned counter at 0x10 and two
// one-byte registers at 0x20 and 0x21, also read together as a 16-bit
// little-endian signed value, with a scale and an offset.
func synthetic(perChannel bool) Options {
	return Options{
		Addr: 0x42,
		Channels: []Channel{
			{Name: "count", Reg: 0x10, Size: 4},
			{Name: "s8", Reg: 0x20, Size: 1, Signed: true},
			{Name: "u8", Reg: 0x21, Size: 1, Scale: 0.5, Offset: -10},
			{Name: "s16", Reg: 0x20, Size: 2, Signed: true},
		},
		PerChannel: perChannel,
	}
}

func TestRunsOfContiguousRegisters(t *testing.T) {
	const a = 0x42
	pb := &i2ctest.Playback{DontPanic: true, Ops: []i2ctest.IO{
		{Addr: a, W: []byte{0x10}, R: []byte{0x78, 0x56, 0x34, 0x12}},
		{Addr: a, W: []byte{0x20}, R: []byte{0xFF, 0x80}},
	}}
	d, err := Open(pb, synthetic(false))
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, d, []float64{0x12345678, -1, 128*0.5 - 10, float64(int16(-0x7F01))})
	closeBoth(t, d, pb)
}

func TestPerChannelTransactions(t *testing.T) {
	const a = 0x42
	pb := &i2ctest.Playback{DontPanic: true, Ops: []i2ctest.IO{
		{Addr: a, W: []byte{0x10}, R: []byte{0xFF, 0xFF, 0xFF, 0xFF}},
		{Addr: a, W: []byte{0x20}, R: []byte{0x7F}},
		{Addr: a, W: []byte{0x20}, R: []byte{0x00, 0x80}},
		{Addr: a, W: []byte{0x21}, R: []byte{0x00}},
	}}
	d, err := Open(pb, synthetic(true))
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, d, []float64{math.MaxUint32, 127, -10, -32768})
	closeBoth(t, d, pb)
}

func TestSignedBigEndian32(t *testing.T) {
	pb := &i2ctest.Playback{DontPanic: true, Ops: []i2ctest.IO{
		{Addr: 0x10, W: []byte{0xFC}, R: []byte{0xFF, 0xFF, 0xFF, 0xFE}},
	}}
	d, err := Open(pb, Options{Addr: 0x10, Channels: []Channel{{Name: "v", Reg: 0xFC, Size: 4, Signed: true, BigEndian: true, Scale: 0.25}}})
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, d, []float64{-0.5})
	closeBoth(t, d, pb)
}

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

func TestBusErrorThenRecovery(t *testing.T) {
	pb := &i2ctest.Playback{DontPanic: true, Ops: append(append(mpuInit(),
		mpuData(1, 2, 3, 0, 0)),
		// Tx 3 (a read) fails; Tx 4 (the first re-init write) fails; then
		// the device answers: re-init, read.
		append(mpuInit(), mpuData(4, 5, 6, 0, 0))...,
	)}
	bus := &flakyBus{Bus: pb, fail: map[int]bool{3: true, 4: true}}
	d, err := Open(bus, mpu6050())
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, d, []float64{36.53, 1.0 / 16384, 2.0 / 16384, 3.0 / 16384, 0})
	if _, err := d.Read(context.Background()); !errors.Is(err, errNack) || !strings.Contains(err.Error(), "read 10 bytes from register 0x3b") {
		t.Fatalf("read: %v, want the bus error on the burst read", err)
	}
	if _, err := d.Read(context.Background()); !errors.Is(err, errNack) || !strings.Contains(err.Error(), "init write 0 (register 0x6b)") {
		t.Fatalf("read: %v, want the bus error on the first init write", err)
	}
	readAll(t, d, []float64{36.53, 4.0 / 16384, 5.0 / 16384, 6.0 / 16384, 0})
	closeBoth(t, d, pb)
	if _, err := d.Read(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after Close: %v", err)
	}
}

func TestOpenFailsOnInitError(t *testing.T) {
	bus := &flakyBus{Bus: &i2ctest.Playback{DontPanic: true, Ops: mpuInit()[:1]}, fail: map[int]bool{1: true}}
	if _, err := Open(bus, mpu6050()); !errors.Is(err, errNack) || !strings.Contains(err.Error(), "init write 1 (register 0x1c)") {
		t.Fatalf("Open: %v", err)
	}
}

func TestOptionsValidation(t *testing.T) {
	ch := func(mod func(*Channel)) Options {
		c := Channel{Name: "v", Reg: 0x00, Size: 2}
		mod(&c)
		return Options{Addr: 0x48, Channels: []Channel{c}}
	}
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"no address", Options{Channels: []Channel{{Name: "v", Size: 1}}}, "address 0x0"},
		{"address too large", Options{Addr: 0x400, Channels: []Channel{{Name: "v", Size: 1}}}, "address 0x400"},
		{"no channels", Options{Addr: 0x48}, "no channels"},
		{"empty name", ch(func(c *Channel) { c.Name = "" }), "channel 0 has an empty name"},
		{"size 3", ch(func(c *Channel) { c.Size = 3 }), `channel "v": size 3`},
		{"size 0", ch(func(c *Channel) { c.Size = 0 }), `channel "v": size 0`},
		{"past 0xff", ch(func(c *Channel) { c.Reg = 0xFF }), "run past register 0xff"},
		{"NaN scale", ch(func(c *Channel) { c.Scale = math.NaN() }), "must be finite"},
		{"Inf offset", ch(func(c *Channel) { c.Offset = math.Inf(-1) }), "must be finite"},
		{"duplicate", Options{Addr: 0x48, Channels: []Channel{{Name: "v", Size: 1}, {Name: "v", Reg: 1, Size: 1}}}, `channel 1: name "v" given twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pb := &i2ctest.Playback{DontPanic: true}
			_, err := Open(pb, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open: %v, want an error containing %q", err, tc.want)
			}
			if pb.Count != 0 {
				t.Errorf("%d bus transactions before the options were rejected", pb.Count)
			}
		})
	}
	if _, err := Open(nil, mpu6050()); err == nil {
		t.Error("Open(nil bus) succeeded")
	}
}

func TestOptionsAreCopied(t *testing.T) {
	opts := mpu6050()
	pb := &i2ctest.Playback{DontPanic: true, Ops: append(mpuInit(), mpuData(0, 0, 0, 0, 0))}
	d, err := Open(pb, opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.Channels[0].Scale = 1000 // must not affect the open device
	opts.Init[0].Values[0] = 0x40
	readAll(t, d, []float64{36.53, 0, 0, 0, 0})
	closeBoth(t, d, pb)
}
