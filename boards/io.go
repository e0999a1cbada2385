package boards

import (
	"context"
	"time"
)

// Reading is one sample of a source's channels.
type Reading struct {
	Time   time.Time // when it was read
	Values []float64 // one per channel, in Channels order
}

// Source is a sensor, or a recording of one, read a sample at a time.
// A pipeline reads it at its sample rate from one goroutine.
type Source interface {
	// Channels names the values of each reading.
	Channels() []string
	// Read takes the next reading. A finite source (a file) returns
	// io.EOF after its last; any other error is a failed read (a sensor
	// that stops answering), which the caller reports and may retry.
	Read(ctx context.Context) (Reading, error)
	// Close releases the source.
	Close() error
}

// Actuator is an output a decision sets: a GPIO pin driving an LED, a
// relay or a buzzer.
type Actuator interface {
	// Set turns it on or off.
	Set(on bool) error
	// Close leaves it off and releases it.
	Close() error
}
