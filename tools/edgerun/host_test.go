package main

import (
	"os"
	"strings"
	"testing"

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
