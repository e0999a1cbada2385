// Package gpioio connects GPIO pins to pipelines through
// periph.io/x/conn/v3/gpio: an edge counter that is a boards.Source, and an
// output that is a boards.Actuator.
//
// Counter counts the edges a gpio.PinIn reports (rising, falling or both, as
// configured with In on the pin; the kernel or the pin driver does the edge
// detection, the counter only counts what WaitForEdge returns). A goroutine
// waits for edges in WaitForEdge with a timeout of Options.Poll; each Read
// returns two channels: "count", the edges counted since the previous Read
// (or since OpenCounter), and "rate_hz", that count divided by the time
// between the two, in edges per second. Read never blocks on the pin, so a
// pipeline reads it at its own sample rate. Edges are counted as the driver
// reports them: an edge that the driver merges with another (periph leaves
// accumulation between two WaitForEdge calls to the OS driver) counts once,
// so pulse rates far above a few kHz are undercounted. Close stops the
// goroutine: it re-configures the pin with NoEdge, which wakes a pending
// WaitForEdge on periph's drivers, and otherwise waits at most one Poll.
//
// Output drives a gpio.PinOut for an LED, a relay or a buzzer: active-high
// (on is High) or active-low (on is Low, as for many relay boards).
// OpenOutput and Close drive it off; Set(on) drives it on or off.
//
// CheckLoopback is the hardware check for a board: with an output pin wired
// to an input pin, it toggles one and checks the other sees the edges and
// levels.
//
// This package imports only the standard library, periph.io/x/conn/v3 and
// boards.
package gpioio
