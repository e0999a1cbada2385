package boards

import (
	"fmt"
	"slices"
)

const mib = 1 << 20

// header40 is the 40-pin header shared by every Raspberry Pi since the
// B+ (Zero, 2, 3, 4, 5): physical pin ↔ BCM GPIO line.
var header40 = []Pin{
	{1, -1, "3V3", ""}, {2, -1, "5V", ""},
	{3, 2, "GPIO2", "I2C1 SDA"}, {4, -1, "5V", ""},
	{5, 3, "GPIO3", "I2C1 SCL"}, {6, -1, "GND", ""},
	{7, 4, "GPIO4", "GPCLK0"}, {8, 14, "GPIO14", "UART TXD"},
	{9, -1, "GND", ""}, {10, 15, "GPIO15", "UART RXD"},
	{11, 17, "GPIO17", ""}, {12, 18, "GPIO18", "PWM0, PCM CLK"},
	{13, 27, "GPIO27", ""}, {14, -1, "GND", ""},
	{15, 22, "GPIO22", ""}, {16, 23, "GPIO23", ""},
	{17, -1, "3V3", ""}, {18, 24, "GPIO24", ""},
	{19, 10, "GPIO10", "SPI0 MOSI"}, {20, -1, "GND", ""},
	{21, 9, "GPIO9", "SPI0 MISO"}, {22, 25, "GPIO25", ""},
	{23, 11, "GPIO11", "SPI0 SCLK"}, {24, 8, "GPIO8", "SPI0 CE0"},
	{25, -1, "GND", ""}, {26, 7, "GPIO7", "SPI0 CE1"},
	{27, 0, "GPIO0", "ID_SD, HAT EEPROM"}, {28, 1, "GPIO1", "ID_SC, HAT EEPROM"},
	{29, 5, "GPIO5", ""}, {30, -1, "GND", ""},
	{31, 6, "GPIO6", ""}, {32, 12, "GPIO12", "PWM0"},
	{33, 13, "GPIO13", "PWM1"}, {34, -1, "GND", ""},
	{35, 19, "GPIO19", "PCM FS, SPI1 MISO"}, {36, 16, "GPIO16", ""},
	{37, 26, "GPIO26", ""}, {38, 20, "GPIO20", "PCM DIN, SPI1 MOSI"},
	{39, -1, "GND", ""}, {40, 21, "GPIO21", "PCM DOUT, SPI1 SCLK"},
}

// piI2C is the header's I²C bus on every Pi: I2C1 on pins 3 and 5, once
// enabled (raspi-config, or dtparam=i2c_arm=on).
var piI2C = []I2CBus{{Device: "/dev/i2c-1", Number: 1, SDA: 3, SCL: 5,
	Note: "enable with raspi-config nonint do_i2c 0 or dtparam=i2c_arm=on; pins 27/28 are the HAT EEPROM bus, not for sensors"}}

var (
	gpioBCM2835 = GPIOChip{Device: "/dev/gpiochip0", Label: "pinctrl-bcm2835", Lines: 54}
	gpioBCM2711 = GPIOChip{Device: "/dev/gpiochip0", Label: "pinctrl-bcm2711", Lines: 58}
	gpioRP1     = GPIOChip{Device: "/dev/gpiochip0", Label: "pinctrl-rp1", Lines: 54,
		Note: "the header is on the RP1 I/O chip, not the SoC; /dev/gpiochip4 before kernel 6.6.45 (now a symlink to gpiochip0 on Raspberry Pi OS)"}
	gpioPi234 = GPIOChip{Device: "/dev/gpiochip0", Label: "pinctrl-bcm2835", Lines: 54,
		Note: "on a Pi 2, 3 or Zero 2 W; a Pi 4's is pinctrl-bcm2711, 58 lines"}
)

// profile is a Board described by data and a match function.
type profile struct {
	p     Profile
	match func(h *Host) (bool, string)
}

func (b *profile) Name() string                 { return b.p.Name }
func (b *profile) Profile() Profile             { return b.p.clone() }
func (b *profile) Match(h *Host) (bool, string) { return b.match(h) }
func (b *profile) String() string               { return b.p.Name }

// pi builds the match function of a Raspberry Pi profile: the device-tree
// model names one of families, and the binary is built for goarch.
func pi(goarch string, families ...piFamily) func(h *Host) (bool, string) {
	return func(h *Host) (bool, string) {
		f := classifyPi(h.Model)
		if f == piNone {
			return false, "not a Raspberry Pi"
		}
		if !slices.Contains(families, f) {
			return false, fmt.Sprintf("device-tree model %q", h.Model)
		}
		if h.GOARCH != goarch {
			return false, fmt.Sprintf("device-tree model %q, but a linux/%s build", h.Model, h.GOARCH)
		}
		return true, fmt.Sprintf("device-tree model %q, linux/%s build", h.Model, h.GOARCH)
	}
}

// gateway builds the match function of a gateway profile: not a
// Raspberry Pi, a CPU of the given cpuinfo architecture, a build for it.
func gateway(arch string) func(h *Host) (bool, string) {
	return func(h *Host) (bool, string) {
		if classifyPi(h.Model) != piNone {
			return false, "a Raspberry Pi"
		}
		if h.CPU.Arch != arch {
			return false, fmt.Sprintf("cpuinfo says %q, not %s", h.CPU.Arch, arch)
		}
		if h.GOARCH != arch {
			return false, fmt.Sprintf("%s CPU, but a linux/%s build", arch, h.GOARCH)
		}
		why := fmt.Sprintf("%s CPU (%s), %d processors, no Raspberry Pi model", arch, h.CPU.describe(), h.CPU.Processors)
		if h.Model != "" {
			why = fmt.Sprintf("%s CPU (%s), %d processors, device-tree model %q", arch, h.CPU.describe(), h.CPU.Processors, h.Model)
		}
		return true, why
	}
}

// builtin lists the profiles registered at init.
var builtin = []*profile{
	{Profile{
		Name:        "rpi-zero",
		Description: "Raspberry Pi Zero, Zero W and Pi 1 (ARM1176, ARMv6, 32-bit Raspberry Pi OS)",
		GOOS:        "linux", GOARCH: "arm", GOARM: "6",
		CPU: "1× ARM1176JZF-S 1 GHz (BCM2835)", Cores: 1, Threads: 1, Kernel: "generic",
		MemoryBudget: 128 * mib, GPIO: gpioBCM2835, Pins: header40, I2C: piI2C,
	}, pi("arm", piOne)},
	{Profile{
		Name:        "rpi-zero2w",
		Description: "Raspberry Pi Zero 2 W, 64-bit Raspberry Pi OS (512 MB: keep models small)",
		GOOS:        "linux", GOARCH: "arm64",
		CPU: "4× Cortex-A53 1 GHz (RP3A0)", Cores: 4, Threads: 2, Kernel: "neon",
		MemoryBudget: 128 * mib, GPIO: gpioBCM2835, Pins: header40, I2C: piI2C,
	}, pi("arm64", piZero2)},
	{Profile{
		Name:        "rpi3",
		Description: "Raspberry Pi 3 B/B+/A+ and CM3, 64-bit Raspberry Pi OS",
		GOOS:        "linux", GOARCH: "arm64",
		CPU: "4× Cortex-A53 1.2–1.4 GHz (BCM2837)", Cores: 4, Threads: 3, Kernel: "neon",
		MemoryBudget: 256 * mib, GPIO: gpioBCM2835, Pins: header40, I2C: piI2C,
	}, pi("arm64", pi3)},
	{Profile{
		Name:        "rpi4",
		Description: "Raspberry Pi 4 B, 400 and CM4, 64-bit Raspberry Pi OS",
		GOOS:        "linux", GOARCH: "arm64",
		CPU: "4× Cortex-A72 1.5–1.8 GHz (BCM2711)", Cores: 4, Threads: 4, Kernel: "neon",
		MemoryBudget: 512 * mib, GPIO: gpioBCM2711, Pins: header40, I2C: piI2C,
	}, pi("arm64", pi4)},
	{Profile{
		Name:        "rpi5",
		Description: "Raspberry Pi 5, 500 and CM5, 64-bit Raspberry Pi OS (header GPIO on the RP1 chip)",
		GOOS:        "linux", GOARCH: "arm64",
		CPU: "4× Cortex-A76 2.4 GHz (BCM2712)", Cores: 4, Threads: 4, Kernel: "sdot",
		MemoryBudget: 1024 * mib, GPIO: gpioRP1, Pins: header40, I2C: piI2C,
	}, pi("arm64", pi5)},
	{Profile{
		Name:        "rpi-armv7",
		Description: "32-bit Raspberry Pi OS on a Pi 2, 3, 4 or Zero 2 W (ARMv7 build, portable kernels)",
		GOOS:        "linux", GOARCH: "arm", GOARM: "7",
		CPU: "4× Cortex-A7/A53/A72", Cores: 4, Threads: 3, Kernel: "neon",
		MemoryBudget: 256 * mib, GPIO: gpioPi234, Pins: header40, I2C: piI2C,
	}, pi("arm", pi2, piZero2, pi3, pi4)},
	{Profile{
		Name:        "arm64-gateway",
		Description: "64-bit ARM Linux gateway or SBC that is not a Raspberry Pi (sdot where the CPU has the dot product)",
		GOOS:        "linux", GOARCH: "arm64",
		CPU: "4× Cortex-A53/A55/A72 class", Cores: 4, Threads: 4, Kernel: "neon",
		MemoryBudget: 1024 * mib,
		GPIO:         GPIOChip{Note: "board-specific: see gpiodetect"},
	}, gateway("arm64")},
	{Profile{
		Name:        "amd64-gateway",
		Description: "x86-64 Linux gateway or industrial PC (avxvnni on Alder Lake and later, generic without AVX2)",
		GOOS:        "linux", GOARCH: "amd64",
		CPU: "4× x86-64 with AVX2", Cores: 4, Threads: 4, Kernel: "avx2",
		MemoryBudget: 2048 * mib,
		GPIO:         GPIOChip{Note: "board-specific: see gpiodetect"},
	}, gateway("amd64")},
}

func init() {
	for _, b := range builtin {
		MustRegister(b)
	}
}
