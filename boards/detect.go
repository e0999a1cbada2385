package boards

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// Paths read by detection, relative to the root file system given to
// Detect (os.DirFS("/") on a device).
const (
	ModelPath       = "proc/device-tree/model"
	ModelPathSysfs  = "sys/firmware/devicetree/base/model"
	CPUInfoPath     = "proc/cpuinfo"
	maxModelBytes   = 4 << 10
	maxCPUInfoBytes = 4 << 20
)

// Host is what the running system says about itself, as detection reads
// it.
type Host struct {
	// Model is the device-tree model string ("Raspberry Pi 4 Model B Rev
	// 1.4"), or the Model line of /proc/cpuinfo when there is no device
	// tree; "" when neither says.
	Model       string  `json:"model"`
	ModelSource string  `json:"model_source,omitempty"` // the file Model came from
	CPU         CPUInfo `json:"cpu"`
	// GOARCH is the architecture of the build running: it tells a 32-bit
	// Raspberry Pi OS (rpi-armv7) from a 64-bit one (rpi4) on the same
	// board.
	GOARCH string `json:"goarch"`
	// Problems lists files that exist but could not be read or parsed.
	Problems []string `json:"problems,omitempty"`
}

// CPUInfo is the part of /proc/cpuinfo detection uses.
type CPUInfo struct {
	// Arch is the CPU's architecture as the kernel reports it: "amd64",
	// "386", "arm64" (an ARMv8 core under a 64-bit kernel), "armv7",
	// "armv6"; "" when unknown.
	Arch       string   `json:"arch"`
	Processors int      `json:"processors"`
	ModelName  string   `json:"model_name,omitempty"` // "model name" (x86, 32-bit ARM)
	Part       string   `json:"part,omitempty"`       // "CPU part" (ARM): 0xd08 Cortex-A72, 0xd0b Cortex-A76
	Hardware   string   `json:"hardware,omitempty"`   // "Hardware" (Raspberry Pi kernels: "BCM2835")
	Revision   string   `json:"revision,omitempty"`   // "Revision" (Raspberry Pi board revision code)
	Model      string   `json:"model,omitempty"`      // "Model" (Raspberry Pi kernels)
	Flags      []string `json:"flags,omitempty"`      // "flags" (x86) or "Features" (ARM) of the first processor
}

// HasFlag reports whether the first processor lists flag ("avx2",
// "asimddp").
func (c CPUInfo) HasFlag(flag string) bool { return slices.Contains(c.Flags, flag) }

// describe names the CPU in a few words.
func (c CPUInfo) describe() string {
	switch {
	case c.ModelName != "":
		return c.ModelName
	case c.Part != "":
		if name, ok := armParts[c.Part]; ok {
			return name
		}
		return "CPU part " + c.Part
	}
	return "unknown CPU"
}

// armParts names the Arm cores seen on Pis and gateways by CPU part.
var armParts = map[string]string{
	"0xb76": "ARM1176", "0xc07": "Cortex-A7", "0xd03": "Cortex-A53", "0xd04": "Cortex-A35",
	"0xd05": "Cortex-A55", "0xd08": "Cortex-A72", "0xd09": "Cortex-A73", "0xd0b": "Cortex-A76",
	"0xd0c": "Neoverse-N1", "0xd40": "Neoverse-V1", "0xd49": "Neoverse-N2",
}

// ParseCPUInfo reads the text of /proc/cpuinfo. Lines it does not
// understand are skipped; it fails only when r does, or on a text that
// is not cpuinfo at all (no "key : value" line).
func ParseCPUInfo(r io.Reader) (CPUInfo, error) {
	var c CPUInfo
	var archField, vendor string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	fields := 0
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if key == "" {
			continue
		}
		fields++
		first := func(dst *string) {
			if *dst == "" {
				*dst = value
			}
		}
		switch key {
		case "processor":
			c.Processors++
		case "model name":
			first(&c.ModelName)
		case "CPU part":
			first(&c.Part)
		case "CPU architecture":
			first(&archField)
		case "vendor_id":
			first(&vendor)
		case "Hardware":
			first(&c.Hardware)
		case "Revision":
			first(&c.Revision)
		case "Model":
			first(&c.Model)
		case "flags", "Features":
			if c.Flags == nil {
				c.Flags = strings.Fields(value)
				if c.Flags == nil {
					c.Flags = []string{}
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return CPUInfo{}, err
	}
	if fields == 0 {
		return CPUInfo{}, errors.New("no \"key : value\" lines")
	}
	switch {
	case vendor != "":
		c.Arch = "386"
		if c.HasFlag("lm") {
			c.Arch = "amd64"
		}
	case archField != "":
		n, _ := strconv.Atoi(strings.TrimPrefix(archField, "AArch"))
		switch {
		case archField == "AArch64" || n >= 8:
			c.Arch = "arm64"
		case c.Part == "0xb76" || strings.Contains(c.ModelName, "ARMv6") || n == 6:
			// ARM1176 reports "CPU architecture: 7".
			c.Arch = "armv6"
		case n == 7:
			c.Arch = "armv7"
		}
	}
	return c, nil
}

// ReadHost reads the device-tree model and /proc/cpuinfo under root for a
// build for goarch. Missing files leave their fields empty; files that
// exist but cannot be read are listed in Problems.
func ReadHost(root fs.FS, goarch string) Host {
	h := Host{GOARCH: goarch}
	for _, p := range []string{ModelPath, ModelPathSysfs} {
		b, err := readCapped(root, p, maxModelBytes)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				h.Problems = append(h.Problems, fmt.Sprintf("%s: %v", p, err))
			}
			continue
		}
		if m := cleanModel(b); m != "" {
			h.Model, h.ModelSource = m, p
			break
		}
	}
	b, err := readCapped(root, CPUInfoPath, maxCPUInfoBytes)
	switch {
	case err == nil:
		c, err := ParseCPUInfo(bytes.NewReader(b))
		if err != nil {
			h.Problems = append(h.Problems, fmt.Sprintf("%s: %v", CPUInfoPath, err))
			break
		}
		h.CPU = c
		if h.Model == "" && c.Model != "" {
			h.Model, h.ModelSource = cleanModel([]byte(c.Model)), CPUInfoPath
		}
	case !errors.Is(err, fs.ErrNotExist):
		h.Problems = append(h.Problems, fmt.Sprintf("%s: %v", CPUInfoPath, err))
	}
	return h
}

// readCapped reads at most max bytes of a file; a longer file is an
// error, not a truncation.
func readCapped(root fs.FS, name string, max int64) ([]byte, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("longer than %d bytes", max)
	}
	return b, nil
}

// cleanModel trims the NUL terminator of a device-tree string and any
// blanks, and keeps printable text only.
func cleanModel(b []byte) string {
	s := string(b)
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r == '\uFFFD' {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// Detection is the outcome of Detect.
type Detection struct {
	Board  Board  // nil when no registered board matches
	Reason string // why Board, or why none
	Host   Host   // what was read
	// Kernel is the engine kernel this CPU's features select for this
	// build ("generic", "neon", "sdot", "avx2", "avxvnni", "avx512vnni"); "" when
	// cpuinfo does not say.
	Kernel string
}

// Detect finds the registered board the system under root is, for the
// running build: Detect(os.DirFS("/")) on a device.
func Detect(root fs.FS) Detection { return DetectFor(root, runtime.GOARCH) }

// DetectFor is Detect for a build for goarch: it lets tests (and a host
// preparing a device's build) ask what a linux/arm64 binary would be on
// the system under root.
func DetectFor(root fs.FS, goarch string) Detection {
	h := ReadHost(root, goarch)
	d := Detection{Host: h, Kernel: expectedKernel(h.CPU, goarch)}
	var matched []Board
	var why string
	for _, b := range All() {
		if ok, w := b.Match(&h); ok {
			if matched == nil {
				why = w
			}
			matched = append(matched, b)
		}
	}
	switch {
	case len(matched) == 0:
		d.Reason = "no board profile matches: " + describeHost(&h)
	case len(matched) == 1:
		d.Board, d.Reason = matched[0], why
	default:
		names := make([]string, len(matched)-1)
		for i, b := range matched[1:] {
			names[i] = b.Name()
		}
		d.Board = matched[0]
		d.Reason = fmt.Sprintf("%s (also matches %s)", why, strings.Join(names, ", "))
	}
	return d
}

// describeHost says what detection saw, for a person.
func describeHost(h *Host) string {
	var parts []string
	switch f := classifyPi(h.Model); {
	case h.Model == "":
		parts = append(parts, "no device-tree model")
	case f == piUnknown:
		parts = append(parts, fmt.Sprintf("unknown Raspberry Pi model %q", h.Model))
	default:
		parts = append(parts, fmt.Sprintf("device-tree model %q", h.Model))
	}
	if h.CPU.Processors == 0 && h.CPU.Arch == "" {
		parts = append(parts, "no /proc/cpuinfo")
	} else {
		arch := h.CPU.Arch
		if arch == "" {
			arch = "unknown architecture"
		}
		parts = append(parts, fmt.Sprintf("cpuinfo: %s, %s, %d processors", arch, h.CPU.describe(), h.CPU.Processors))
	}
	parts = append(parts, "a linux/"+h.GOARCH+" build")
	parts = append(parts, h.Problems...)
	return strings.Join(parts, "; ")
}

// expectedKernel is the engine kernel the dispatch picks on this CPU for
// a build for goarch.
func expectedKernel(c CPUInfo, goarch string) string {
	switch goarch {
	case "amd64":
		if c.Arch != "amd64" {
			return ""
		}
		switch {
		case c.HasFlag("avx2") && c.HasFlag("fma") && c.HasFlag("avx512f") && c.HasFlag("avx512bw") &&
			c.HasFlag("avx512vl") && c.HasFlag("avx512_vnni"):
			return "avx512vnni"
		case c.HasFlag("avx2") && c.HasFlag("avx_vnni"):
			return "avxvnni"
		case c.HasFlag("avx2"):
			return "avx2"
		}
		return "generic"
	case "arm64":
		if c.Arch != "arm64" {
			return ""
		}
		if c.HasFlag("asimddp") {
			return "sdot"
		}
		return "neon"
	case "arm":
		// ARMv7 NEON kernels in a GOARM=7 build (the default when cross
		// compiling; a running arm binary answers for its own GOARM) on a
		// CPU with NEON: an ARMv7 one that lists it, or any 64-bit ARM CPU
		// running 32-bit code. GOARM=6 builds keep the portable kernels.
		if runtime.GOARCH == "arm" && !goarm7 {
			return "generic"
		}
		switch {
		case c.Arch == "arm64", c.Arch == "armv7" && c.HasFlag("neon"):
			return "neon"
		case c.Arch == "":
			return ""
		}
		return "generic"
	case "":
		return ""
	}
	return "generic" // 386 and the rest: no assembly kernels
}

// piFamily groups Raspberry Pi models by what a build needs to know.
type piFamily int

const (
	piNone    piFamily = iota // not a Raspberry Pi
	piUnknown                 // a Raspberry Pi this package does not know
	piOne                     // ARMv6: Pi 1, Zero, Zero W, CM1
	piZero2                   // Zero 2 W
	pi2
	pi3
	pi4
	pi5
)

// classifyPi reads a device-tree model string.
func classifyPi(model string) piFamily {
	rest, ok := strings.CutPrefix(model, "Raspberry Pi ")
	if !ok {
		return piNone
	}
	word := func(s string) bool {
		r, ok := strings.CutPrefix(rest, s)
		return ok && (r == "" || r[0] == ' ')
	}
	switch {
	case strings.HasPrefix(rest, "Zero 2"):
		return piZero2
	case word("Zero"):
		return piOne
	case word("Compute Module 3"), word("3"):
		return pi3
	case word("Compute Module 4"), word("Compute Module 4S"), word("4"), word("400"):
		return pi4
	case word("Compute Module 5"), word("5"), word("500"):
		return pi5
	case word("2"):
		return pi2
	case word("Compute Module"), word("Model"):
		return piOne
	}
	return piUnknown
}
