// Package boards describes the devices edgerun runs on and recognises the
// one it is running on.
//
// A Board is a kind of device with a Profile: the build that runs on it
// (GOOS, GOARCH, GOARM), its cores and default inference threads, the
// engine kernel its CPU selects ("generic", "neon", "sdot", "avx2",
// "avxvnni"), a memory budget, the GPIO chip of its 40-pin header with
// the header's pin ↔ BCM GPIO line table, and its I²C buses. Boards live
// in a registry in the style of periph's driverreg: Register (a second
// registration of a name is an error), All sorted by name, Lookup by
// name. The built-in profiles, registered at init, are rpi-zero,
// rpi-zero2w, rpi3, rpi4, rpi5, rpi-armv7 (32-bit Raspberry Pi OS on a
// Pi 2, 3, 4 or Zero 2 W), arm64-gateway and amd64-gateway.
//
// Detect reads the device-tree model string (/proc/device-tree/model or
// /sys/firmware/devicetree/base/model) and /proc/cpuinfo from a file
// system, os.DirFS("/") on a device or an fstest.MapFS in tests, and
// returns the matching board and why, or no board and why not. The
// running build's GOARCH tells a 32-bit Raspberry Pi OS from a 64-bit one
// on the same Pi.
//
// The package also holds the I/O contract of pipelines: Reading, Source
// and Actuator.
//
// Import rules (enforced by make deps-check): boards imports only the
// standard library and periph.io/x/conn/v3 (the interfaces), nothing of
// edgerun outside boards/. The periph host drivers (periph.io/x/host/v3)
// are linked only in tools/edgerun, the way periph splits conn from host,
// so everything here is testable with conn's fakes. The systemd unit of
// edgerun serve lives in boards/systemd; boards/README.md tells how to
// build for, wire and set up a board.
package boards
