package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/edgerun/edgerun/boards"
	"github.com/edgerun/edgerun/boards/adxl345"
	"github.com/edgerun/edgerun/boards/gpioio"
	"github.com/edgerun/edgerun/boards/i2creg"
	"github.com/edgerun/edgerun/tools/edgerun/internal/mqtt"
	"github.com/edgerun/edgerun/tools/edgerun/internal/pipeline"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
	"periph.io/x/conn/v3/i2c"
)

// The hardware of edgerun pipeline, linked here: GPIO outputs and inputs
// and I²C sensors through periph's host drivers (host.go), and MQTT
// through the mqtt package.
func init() {
	pipelineGPIO = openGPIOSink
	pipelineMQTT = openMQTTSink
	pipelineSources["adxl345"] = adxl345Kind
	pipelineSources["i2c"] = i2cKind
	pipelineSources["gpio-edges"] = gpioEdgesKind
}

// simPinPrefix names a simulated pin: "sim:GPIO27" is a pin in memory,
// for running a pipeline without the hardware; its changes are logged.
const simPinPrefix = "sim:"

// openGPIOSink drives a pin (a name periph knows: GPIO27, or a header
// position such as P1_13; or sim:NAME) as the alarm output.
func openGPIOSink(spec pipeline.GPIOSpec) (boards.Actuator, error) {
	if name, ok := strings.CutPrefix(spec.Pin, simPinPrefix); ok {
		if name == "" {
			return nil, fmt.Errorf("gpio: %q names no pin after %q", spec.Pin, simPinPrefix)
		}
		return gpioio.OpenOutput(&simPin{Pin: &gpiotest.Pin{N: spec.Pin, L: gpio.Low}, log: cmp.Or(spec.Log, slog.Default())}, spec.ActiveLow)
	}
	pin, err := openPin(spec.Pin)
	if err != nil {
		return nil, err
	}
	return gpioio.OpenOutput(pin, spec.ActiveLow)
}

// simPin is a pin in memory (periph's gpiotest.Pin) that logs each
// change of its level.
type simPin struct {
	*gpiotest.Pin
	log *slog.Logger
}

func (p *simPin) Out(l gpio.Level) error {
	if p.Read() != l {
		p.log.Info("pipeline: simulated pin", "pin", p.Name(), "level", l.String())
	}
	return p.Pin.Out(l)
}

// mqttSink publishes through an mqtt.Publisher, logging a refused
// message (none is, once the topic has been checked) instead of losing
// it silently.
type mqttSink struct {
	p   *mqtt.Publisher
	log *slog.Logger
}

func (s mqttSink) Publish(topic string, payload []byte) {
	if err := s.p.Publish(topic, payload); err != nil {
		s.log.Error("pipeline: mqtt: message refused", "topic", topic, "err", err)
	}
}

func (s mqttSink) Close(ctx context.Context) error {
	unsent, err := s.p.Close(ctx)
	if unsent > 0 {
		s.log.Warn("pipeline: mqtt: messages left unsent at close", "unsent", unsent)
	}
	return err
}

func openMQTTSink(spec pipeline.MQTTSpec) (pipeline.Publisher, error) {
	if err := mqtt.CheckTopic(spec.Topic); err != nil {
		return nil, err
	}
	if spec.QoS > 1 {
		return nil, fmt.Errorf("mqtt: QoS %d: edgerun publishes at QoS 0 or 1 (at least once, in order)", spec.QoS)
	}
	opt := mqtt.Options{Broker: spec.Broker, ClientID: spec.ClientID, Username: spec.Username,
		AtMostOnce: spec.QoS == 0, Retain: spec.Retain, Outbox: spec.Outbox, Logger: cmp.Or(spec.Log, slog.Default())}
	if spec.PasswordEnv != "" {
		pw, ok := os.LookupEnv(spec.PasswordEnv)
		if !ok {
			return nil, fmt.Errorf("mqtt: the password variable %s is not set", spec.PasswordEnv)
		}
		opt.Password = pw
	}
	p, err := mqtt.New(opt)
	if err != nil {
		return nil, err
	}
	return mqttSink{p: p, log: cmp.Or(spec.Log, slog.Default())}, nil
}

// busSource closes the I²C bus with the sensor read on it.
type busSource struct {
	boards.Source
	bus i2c.BusCloser
}

func (s busSource) Close() error {
	return errors.Join(s.Source.Close(), s.bus.Close())
}

// i2cAddress reads an I²C address field (7-bit: 0x03 to 0x77).
func i2cAddress(n *pipeline.Node, def int) (uint16, error) {
	a, err := n.Int("address", def, 0x03, 0x77)
	return uint16(a), err
}

// adxl345Kind: an ADXL345 accelerometer on an I²C bus.
//
//	source: {kind: adxl345, bus: /dev/i2c-1, address: 0x53, range_g: 16, rate: 1600, unit: g, channels: [vib_x, vib_y, vib_z]}
func adxl345Kind(n *pipeline.Node) (pipeline.OpenSource, error) {
	bus, err := n.String("bus", "/dev/i2c-1")
	if err != nil {
		return nil, err
	}
	addr, err := i2cAddress(n, adxl345.AddrDefault)
	if err != nil {
		return nil, err
	}
	var opt adxl345.Options
	opt.Addr = addr
	if opt.RangeG, err = n.Int("range_g", 2, 2, 16); err != nil {
		return nil, err
	}
	if opt.Rate, err = n.Positive("rate", 100); err != nil {
		return nil, err
	}
	if opt.Unit, err = n.OneOf("unit", "g", "g", "m/s2"); err != nil {
		return nil, err
	}
	if n.Has("channels") {
		if opt.Channels, err = n.Strings("channels"); err != nil {
			return nil, err
		}
	}
	return func() (boards.Source, error) {
		b, err := openI2C(bus)
		if err != nil {
			return nil, err
		}
		d, err := adxl345.Open(b, opt)
		if err != nil {
			b.Close()
			return nil, err
		}
		return busSource{d, b}, nil
	}, nil
}

// i2cKind: any I²C device read as a map of registers.
//
//	source:
//	  kind: i2c
//	  bus: /dev/i2c-1
//	  address: 0x48
//	  init: [{register: 0x01, values: [0x42, 0x83]}]
//	  channels: [{name: current, register: 0x00, size: 2, signed: true, big_endian: true, scale: 0.000125}]
func i2cKind(n *pipeline.Node) (pipeline.OpenSource, error) {
	bus, err := n.String("bus", "/dev/i2c-1")
	if err != nil {
		return nil, err
	}
	var opt i2creg.Options
	if opt.Addr, err = i2cAddress(n, 0); err != nil {
		return nil, err
	}
	if !n.Has("address") {
		return nil, n.Errorf("address", "is missing")
	}
	if opt.PerChannel, err = n.Bool("per_channel", false); err != nil {
		return nil, err
	}
	for _, key := range []string{"init", "close"} {
		ws, err := n.Maps(key)
		if err != nil {
			return nil, err
		}
		for _, w := range ws {
			reg, err := w.Int("register", 0, 0, 255)
			if err != nil {
				return nil, err
			}
			vs, err := w.Floats("values")
			if err != nil {
				return nil, err
			}
			wr := i2creg.Write{Reg: byte(reg)}
			for _, v := range vs {
				if v != float64(int(v)) || v < 0 || v > 255 {
					return nil, w.Errorf("values", "%v is not a byte (0 to 255)", v)
				}
				wr.Values = append(wr.Values, byte(v))
			}
			if err := w.Done(); err != nil {
				return nil, err
			}
			if key == "init" {
				opt.Init = append(opt.Init, wr)
			} else {
				opt.Close = append(opt.Close, wr)
			}
		}
	}
	chs, err := n.Maps("channels")
	if err != nil {
		return nil, err
	}
	if len(chs) == 0 {
		return nil, n.Errorf("channels", "lists no channel")
	}
	for _, c := range chs {
		var ch i2creg.Channel
		if ch.Name, err = c.RequiredString("name"); err != nil {
			return nil, err
		}
		reg, err := c.Int("register", 0, 0, 255)
		if err != nil {
			return nil, err
		}
		ch.Reg = byte(reg)
		if ch.Size, err = c.Int("size", 1, 1, 4); err != nil {
			return nil, err
		}
		if ch.Signed, err = c.Bool("signed", false); err != nil {
			return nil, err
		}
		if ch.BigEndian, err = c.Bool("big_endian", false); err != nil {
			return nil, err
		}
		if ch.Scale, err = c.Float("scale", 1); err != nil {
			return nil, err
		}
		if ch.Offset, err = c.Float("offset", 0); err != nil {
			return nil, err
		}
		if err := c.Done(); err != nil {
			return nil, err
		}
		opt.Channels = append(opt.Channels, ch)
	}
	return func() (boards.Source, error) {
		b, err := openI2C(bus)
		if err != nil {
			return nil, err
		}
		d, err := i2creg.Open(b, opt)
		if err != nil {
			b.Close()
			return nil, err
		}
		return busSource{d, b}, nil
	}, nil
}

// gpioEdgesKind: edges counted on an input pin (a flow meter, a tacho).
//
//	source: {kind: gpio-edges, pin: GPIO17, edge: rising, pull: up}
func gpioEdgesKind(n *pipeline.Node) (pipeline.OpenSource, error) {
	name, err := n.RequiredString("pin")
	if err != nil {
		return nil, err
	}
	var opt gpioio.Options
	edge, err := n.OneOf("edge", "rising", "rising", "falling", "both")
	if err != nil {
		return nil, err
	}
	opt.Edge = map[string]gpio.Edge{"rising": gpio.RisingEdge, "falling": gpio.FallingEdge, "both": gpio.BothEdges}[edge]
	pull, err := n.OneOf("pull", "none", "none", "up", "down")
	if err != nil {
		return nil, err
	}
	opt.Pull = map[string]gpio.Pull{"none": gpio.Float, "up": gpio.PullUp, "down": gpio.PullDown}[pull]
	return func() (boards.Source, error) {
		pin, err := openPin(strings.TrimSpace(name))
		if err != nil {
			return nil, err
		}
		return gpioio.OpenCounter(pin, opt)
	}, nil
}
