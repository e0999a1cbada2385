package main

import (
	"context"
	"github.com/edgerun/edgerun/boards/adxl345"
	"github.com/edgerun/edgerun/boards/gpioio"
	"os"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
)

func TestInitHostOnce(t *testing.T) {
	a, err := initHost()
	if err != nil {
		t.Fatal(err)
	}
	b, err := initHost()
	if err != nil || a != b || a == nil {
		t.Fatalf("second initHost: %p, %v; first %p", b, err, a)
	}
}

func TestOpenUnknown(t *testing.T) {
	if p, err := openPin("NO_SUCH_PIN"); err == nil || p != nil ||
		!strings.HasPrefix(err.Error(), `GPIO pin "NO_SUCH_PIN": not found (`) {
		t.Errorf("openPin: %v, %v", p, err)
	}
	if bus, err := openI2C("/dev/i2c-99"); err == nil || bus != nil ||
		!strings.HasPrefix(err.Error(), `I²C bus "/dev/i2c-99": i2creg: `) {
		t.Errorf("openI2C: %v, %v", bus, err)
	}
}

// TestHostHardware opens the header's I²C bus and drives GPIO27 low
// (the alarm pin of boards/README.md) on a real Pi.
func TestHostHardware(t *testing.T) {
	if os.Getenv("EDGERUN_BOARD_TESTS") != "1" {
		t.Skip("needs a board: set EDGERUN_BOARD_TESTS=1 on a Raspberry Pi with I²C enabled")
	}
	bus, err := openI2C("/dev/i2c-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.Close(); err != nil {
		t.Error(err)
	}
	pin, err := openPin("GPIO27")
	if err != nil {
		t.Fatal(err)
	}
	if err := pin.Out(gpio.Low); err != nil {
		t.Fatal(err)
	}
	if got := pin.Read(); got != gpio.Low {
		t.Errorf("GPIO27 reads %v after Out(Low)", got)
	}
}

// TestSensorHardware checks the wired example of boards/README.md on a
// real Pi (EDGERUN_BOARD_TESTS=1): an ADXL345 at rest on /dev/i2c-1 reads
// 1 g (adxl345.Check), and, with EDGERUN_BOARD_LOOPBACK=OUT:IN (e.g.
// GPIO27:GPIO22, the two pins wired together), the output's edges reach
// the input (gpioio.CheckLoopback).
func TestSensorHardware(t *testing.T) {
	if os.Getenv("EDGERUN_BOARD_TESTS") != "1" {
		t.Skip("needs a board: set EDGERUN_BOARD_TESTS=1 on a Raspberry Pi with an ADXL345 on I²C")
	}
	bus, err := openI2C("/dev/i2c-1")
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	res, err := adxl345.Check(context.Background(), bus, adxl345.Options{}, 20)
	if err != nil {
		t.Fatalf("ADXL345: %v (%+v)", err, res)
	}
	t.Logf("ADXL345: %+v", res)
	pins := os.Getenv("EDGERUN_BOARD_LOOPBACK")
	if pins == "" {
		t.Log("EDGERUN_BOARD_LOOPBACK unset: the GPIO loopback is not checked")
		return
	}
	outName, inName, ok := strings.Cut(pins, ":")
	if !ok {
		t.Fatalf("EDGERUN_BOARD_LOOPBACK=%q: want OUT:IN, e.g. GPIO27:GPIO22", pins)
	}
	out, err := openPin(outName)
	if err != nil {
		t.Fatal(err)
	}
	in, err := openPin(inName)
	if err != nil {
		t.Fatal(err)
	}
	if err := gpioio.CheckLoopback(out, in, 10, time.Second); err != nil {
		t.Fatal(err)
	}
}
