package boards

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Board is a kind of device edgerun runs on: its profile, and how to
// recognise it from what the running system says about itself.
//
// Implementations are registered once, in an init function, with
// Register or MustRegister, and are then shared read-only.
type Board interface {
	// Name is the registry key ("rpi4"): lower case, unique.
	Name() string
	// Profile returns the board's facts. The caller owns the copy.
	Profile() Profile
	// Match reports whether the host is this board, and why or why not
	// in a few words for a person ("device-tree model \"Raspberry Pi 4
	// Model B Rev 1.4\", 64-bit build").
	Match(h *Host) (ok bool, why string)
}

// Profile holds the facts about a board that edgerun needs to build for
// it, size its sessions and name its pins.
type Profile struct {
	Name        string `json:"name"`
	Description string `json:"description"` // one line
	// GOOS, GOARCH and GOARM ("" unless GOARCH is arm) of the build that
	// runs on it.
	GOOS   string `json:"goos"`
	GOARCH string `json:"goarch"`
	GOARM  string `json:"goarm,omitempty"`
	CPU    string `json:"cpu"`   // cores and SoC, e.g. "Cortex-A72 (BCM2711)"
	Cores  int    `json:"cores"` // the board's (or a typical gateway's) core count
	// Threads is the default number of inference threads of a session.
	Threads int `json:"threads"`
	// Kernel is the engine kernel expected on this CPU with this build,
	// by the name the engine prints: "generic", "neon", "sdot", "avx2"
	// or "avxvnni".
	Kernel string `json:"kernel"`
	// MemoryBudget is the memory, in bytes, that edgerun (models,
	// arenas, pipelines, plugins) should stay under on the smallest
	// variant of the board.
	MemoryBudget int64 `json:"memory_budget_bytes"`
	// GPIO is the chip driving the 40-pin header; the zero value on a
	// board with no standard header.
	GPIO GPIOChip `json:"gpio"`
	// Pins is the header, pin 1 to 40; nil on a board without one.
	Pins []Pin `json:"pins,omitempty"`
	// I2C lists the buses on the header.
	I2C []I2CBus `json:"i2c,omitempty"`
}

// GPIOChip names the Linux GPIO character device of a board's header.
type GPIOChip struct {
	Device string `json:"device,omitempty"` // "/dev/gpiochip0"
	Label  string `json:"label,omitempty"`  // the chip's label, as gpiodetect prints it: "pinctrl-bcm2711"
	Lines  int    `json:"lines,omitempty"`  // lines on that chip
	Note   string `json:"note,omitempty"`
}

// Pin is one pin of a 40-pin header.
type Pin struct {
	Header int `json:"header"` // physical pin number, 1..40
	// Line is the BCM GPIO number (the line offset on the header's GPIO
	// chip), or -1 for a power or ground pin.
	Line int `json:"line"`
	// Name is "GPIO<line>" for a GPIO (the name periph's gpioreg.ByName
	// takes), or "3V3", "5V", "GND".
	Name string `json:"name"`
	// Func is the pin's usual alternate function ("I2C1 SDA"), if any.
	Func string `json:"func,omitempty"`
}

// I2CBus is an I²C bus on the header.
type I2CBus struct {
	Device string `json:"device"` // "/dev/i2c-1"
	Number int    `json:"number"` // the bus number periph's i2creg.Open takes as a name ("1")
	SDA    int    `json:"sda"`    // header pin of SDA
	SCL    int    `json:"scl"`    // header pin of SCL
	Note   string `json:"note,omitempty"`
}

// BuildEnv is the environment of a `go build` for the board, e.g.
// ["CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm", "GOARM=6"].
func (p Profile) BuildEnv() []string {
	env := []string{"CGO_ENABLED=0", "GOOS=" + p.GOOS, "GOARCH=" + p.GOARCH}
	if p.GOARM != "" {
		env = append(env, "GOARM="+p.GOARM)
	}
	return env
}

// Target is the build's platform as `make cross` names it:
// "linux/arm64", "linux/arm/6".
func (p Profile) Target() string {
	t := p.GOOS + "/" + p.GOARCH
	if p.GOARM != "" {
		t += "/" + p.GOARM
	}
	return t
}

// BuildCommand is the command line that cross-compiles edgerun for the
// board from the repository root, stripped as `make cross` builds it.
func (p Profile) BuildCommand() string {
	suffix := p.GOOS + "-" + p.GOARCH
	if p.GOARM != "" {
		suffix += "v" + p.GOARM
	}
	return strings.Join(p.BuildEnv(), " ") +
		" go build -trimpath -ldflags='-s -w' -o bin/cross/edgerun-" + suffix + " ./tools/edgerun"
}

// PinByHeader returns the header pin with physical number n.
func (p Profile) PinByHeader(n int) (Pin, bool) {
	for _, pin := range p.Pins {
		if pin.Header == n {
			return pin, true
		}
	}
	return Pin{}, false
}

// PinByLine returns the header pin wired to BCM GPIO line.
func (p Profile) PinByLine(line int) (Pin, bool) {
	if line < 0 {
		return Pin{}, false
	}
	for _, pin := range p.Pins {
		if pin.Line == line {
			return pin, true
		}
	}
	return Pin{}, false
}

// clone returns p with its slices copied, so callers cannot change the
// registered profile.
func (p Profile) clone() Profile {
	p.Pins = slices.Clone(p.Pins)
	p.I2C = slices.Clone(p.I2C)
	return p
}

// ErrDuplicate is returned by Register for a name already registered.
var ErrDuplicate = errors.New("boards: board already registered")

var (
	mu       sync.Mutex
	registry = map[string]Board{}
)

// Register adds a board to the registry. A nil board, an empty name or a
// name already registered is an error.
func Register(b Board) error {
	if b == nil {
		return errors.New("boards: Register of a nil board")
	}
	name := b.Name()
	if name == "" {
		return errors.New("boards: Register of a board with an empty name")
	}
	mu.Lock()
	defer mu.Unlock()
	if _, ok := registry[name]; ok {
		return fmt.Errorf("%w: %q", ErrDuplicate, name)
	}
	registry[name] = b
	return nil
}

// MustRegister calls Register and panics on error; for init functions.
func MustRegister(b Board) {
	if err := Register(b); err != nil {
		panic(err)
	}
}

// All returns the registered boards sorted by name.
func All() []Board {
	mu.Lock()
	out := make([]Board, 0, len(registry))
	for _, b := range registry {
		out = append(out, b)
	}
	mu.Unlock()
	slices.SortFunc(out, func(a, b Board) int { return strings.Compare(a.Name(), b.Name()) })
	return out
}

// Lookup returns the board registered under name.
func Lookup(name string) (Board, bool) {
	mu.Lock()
	defer mu.Unlock()
	b, ok := registry[name]
	return b, ok
}
