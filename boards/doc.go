// Package boards is planned: it holds documentation only, no code yet. It
// is to describe the devices edgerun runs on and connect models to their
// I/O through periph.io.
//
// It is to own the board profiles (GOOS/GOARCH/GOARM, core count, default
// inference threads, pin and bus names, for the Raspberry Pi models and
// edge gateways), a Board interface with a registry in the style of
// periph's driverreg, and the glue between periph.io/x/conn/v3 interfaces
// and models: sensor sources, actuators, and pipelines in which a sensor
// feeds a model and the model drives a pin. Each board gets its own
// subpackage, boards/<board>.
//
// Import rules (enforced by make deps-check): boards imports only
// periph.io/x/conn/v3 (the interfaces) and nothing else of edgerun outside
// boards/. Real periph host drivers (periph.io/x/host) are linked only in
// tools/edgerun, the way periph splits conn from host, so everything here
// stays testable with conn's fakes (gpiotest, i2ctest Record/Playback).
// No gonum, avo, go-plugin or gRPC.
//
// Status: documentation only; the board profiles and pipelines land with
// a later issue.
package boards
