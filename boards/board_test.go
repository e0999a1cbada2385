package boards

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestRegistry(t *testing.T) {
	var names []string
	for _, b := range All() {
		names = append(names, b.Name())
	}
	want := []string{"amd64-gateway", "arm64-gateway", "rpi-armv7", "rpi-zero", "rpi-zero2w", "rpi3", "rpi4", "rpi5"}
	if !slices.Equal(names, want) {
		t.Fatalf("All() = %v, want %v", names, want)
	}
	for _, name := range want {
		b, ok := Lookup(name)
		if !ok || b.Name() != name || b.Profile().Name != name {
			t.Errorf("Lookup(%q) = %v, %v", name, b, ok)
		}
	}
	if b, ok := Lookup("rpi6"); ok || b != nil {
		t.Errorf("Lookup(rpi6) = %v, %v", b, ok)
	}
}

// testBoard is a board registered by tests.
type testBoard string

func (b testBoard) Name() string               { return string(b) }
func (b testBoard) Profile() Profile           { return Profile{Name: string(b)} }
func (b testBoard) Match(*Host) (bool, string) { return false, "never" }

func TestRegisterErrors(t *testing.T) {
	t.Cleanup(func() {
		mu.Lock()
		delete(registry, "test-board")
		mu.Unlock()
	})
	if err := Register(testBoard("test-board")); err != nil {
		t.Fatal(err)
	}
	if _, ok := Lookup("test-board"); !ok {
		t.Error("test-board not found after Register")
	}
	for _, tc := range []struct {
		name string
		b    Board
		want string
	}{
		{"twice", testBoard("test-board"), `boards: board already registered: "test-board"`},
		{"builtin twice", testBoard("rpi4"), `boards: board already registered: "rpi4"`},
		{"nil", nil, "boards: Register of a nil board"},
		{"empty name", testBoard(""), "boards: Register of a board with an empty name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Register(tc.b)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("Register: %v, want %q", err, tc.want)
			}
			if strings.Contains(tc.want, "already") && !errors.Is(err, ErrDuplicate) {
				t.Errorf("%v is not ErrDuplicate", err)
			}
		})
	}
	defer func() {
		if r := recover(); r == nil {
			t.Error("MustRegister of a duplicate did not panic")
		}
	}()
	MustRegister(testBoard("test-board"))
}

func TestProfiles(t *testing.T) {
	for _, tc := range []struct {
		name, target, kernel, gpioLabel string
		cores, threads                  int
		header                          bool
	}{
		{"rpi-zero", "linux/arm/6", "generic", "pinctrl-bcm2835", 1, 1, true},
		{"rpi-zero2w", "linux/arm64", "neon", "pinctrl-bcm2835", 4, 2, true},
		{"rpi3", "linux/arm64", "neon", "pinctrl-bcm2835", 4, 3, true},
		{"rpi4", "linux/arm64", "neon", "pinctrl-bcm2711", 4, 4, true},
		{"rpi5", "linux/arm64", "sdot", "pinctrl-rp1", 4, 4, true},
		{"rpi-armv7", "linux/arm/7", "neon", "pinctrl-bcm2835", 4, 3, true},
		{"arm64-gateway", "linux/arm64", "neon", "", 4, 4, false},
		{"amd64-gateway", "linux/amd64", "avx2", "", 4, 4, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, ok := Lookup(tc.name)
			if !ok {
				t.Fatal("not registered")
			}
			p := b.Profile()
			if p.Target() != tc.target || p.Kernel != tc.kernel || p.GPIO.Label != tc.gpioLabel ||
				p.Cores != tc.cores || p.Threads != tc.threads {
				t.Errorf("got %s kernel %s gpio %q cores %d threads %d", p.Target(), p.Kernel, p.GPIO.Label, p.Cores, p.Threads)
			}
			if p.Threads < 1 || p.Threads > p.Cores || p.MemoryBudget < 64<<20 || p.Description == "" || p.CPU == "" {
				t.Errorf("implausible profile %+v", p)
			}
			if (len(p.Pins) == 40) != tc.header || (len(p.I2C) > 0) != tc.header {
				t.Errorf("%d header pins, %d I²C buses", len(p.Pins), len(p.I2C))
			}
			env := strings.Join(p.BuildEnv(), " ")
			wantEnv := "CGO_ENABLED=0 GOOS=" + strings.ReplaceAll(strings.Replace(tc.target, "linux/", "linux GOARCH=", 1), "/", " GOARM=")
			if env != wantEnv {
				t.Errorf("BuildEnv %q, want %q", env, wantEnv)
			}
			if cmd := p.BuildCommand(); !strings.HasPrefix(cmd, env+" go build -trimpath -ldflags='-s -w' -o bin/cross/edgerun-") ||
				!strings.HasSuffix(cmd, " ./tools/edgerun") {
				t.Errorf("BuildCommand %q", cmd)
			}
		})
	}
}

func TestProfileIsACopy(t *testing.T) {
	b, _ := Lookup("rpi4")
	p := b.Profile()
	p.Pins[12].Name = "changed"
	p.I2C[0].Device = "changed"
	q := b.Profile()
	if q.Pins[12].Name != "GPIO27" || q.I2C[0].Device != "/dev/i2c-1" {
		t.Errorf("the registered profile changed through a copy: %v %v", q.Pins[12], q.I2C[0])
	}
}

// TestHeader checks the 40-pin table against the header's shape: every
// BCM line 0..27 once, power and ground where the header has them.
func TestHeader(t *testing.T) {
	b, _ := Lookup("rpi5")
	p := b.Profile()
	seen := map[int]int{}
	for i, pin := range p.Pins {
		if pin.Header != i+1 {
			t.Fatalf("pin %d at index %d", pin.Header, i)
		}
		if pin.Line < 0 {
			if pin.Name != "3V3" && pin.Name != "5V" && pin.Name != "GND" {
				t.Errorf("pin %d: power pin named %q", pin.Header, pin.Name)
			}
			continue
		}
		if pin.Name != fmt.Sprintf("GPIO%d", pin.Line) {
			t.Errorf("pin %d: line %d named %q", pin.Header, pin.Line, pin.Name)
		}
		seen[pin.Line]++
	}
	for line := 0; line <= 27; line++ {
		if seen[line] != 1 {
			t.Errorf("GPIO%d on %d pins", line, seen[line])
		}
	}
	for _, tc := range []struct{ header, line int }{{3, 2}, {5, 3}, {13, 27}, {11, 17}, {40, 21}} {
		pin, ok := p.PinByHeader(tc.header)
		if !ok || pin.Line != tc.line {
			t.Errorf("PinByHeader(%d) = %+v", tc.header, pin)
		}
		back, ok := p.PinByLine(tc.line)
		if !ok || back.Header != tc.header {
			t.Errorf("PinByLine(%d) = %+v", tc.line, back)
		}
	}
	for _, n := range []int{0, 41, -1} {
		if pin, ok := p.PinByHeader(n); ok {
			t.Errorf("PinByHeader(%d) = %+v", n, pin)
		}
	}
	if pin, ok := p.PinByLine(-1); ok {
		t.Errorf("PinByLine(-1) = %+v", pin)
	}
	if bus := p.I2C[0]; bus.SDA != 3 || bus.SCL != 5 || bus.Device != "/dev/i2c-1" || bus.Number != 1 {
		t.Errorf("I²C bus %+v", bus)
	}
}
