package boards

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// cpuinfo returns a recorded /proc/cpuinfo from testdata/cpuinfo.
func cpuinfo(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "cpuinfo", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// devtree is a device-tree model file as the kernel writes it: the
// string and its NUL terminator.
func devtree(model string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(model + "\x00")} }

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fs     fstest.MapFS
		goarch string
		want   string // board name; "" for none
		kernel string
		why    string // in the reason
	}{
		{"pi4/64-bit", fstest.MapFS{
			ModelPath:   devtree("Raspberry Pi 4 Model B Rev 1.4"),
			CPUInfoPath: {Data: []byte(cpuinfo(t, "rpi4-64.txt"))},
		}, "arm64", "rpi4", "neon", `"Raspberry Pi 4 Model B Rev 1.4", linux/arm64 build`},
		{"pi4/32-bit build", fstest.MapFS{
			ModelPath:   devtree("Raspberry Pi 4 Model B Rev 1.4"),
			CPUInfoPath: {Data: []byte(cpuinfo(t, "rpi4-64.txt"))},
		}, "arm", "rpi-armv7", "neon", "linux/arm build"},
		{"pi4/sysfs model only", fstest.MapFS{
			ModelPathSysfs: devtree("Raspberry Pi 4 Model B Rev 1.2"),
		}, "arm64", "rpi4", "", "Rev 1.2"},
		{"pi400", fstest.MapFS{ModelPath: devtree("Raspberry Pi 400 Rev 1.0")}, "arm64", "rpi4", "", "400"},
		{"cm4", fstest.MapFS{ModelPath: devtree("Raspberry Pi Compute Module 4 Rev 1.0")}, "arm64", "rpi4", "", "Compute Module 4"},
		{"pi5", fstest.MapFS{
			ModelPath:   devtree("Raspberry Pi 5 Model B Rev 1.0"),
			CPUInfoPath: {Data: []byte(cpuinfo(t, "rpi5.txt"))},
		}, "arm64", "rpi5", "sdot", `"Raspberry Pi 5 Model B Rev 1.0"`},
		{"pi500", fstest.MapFS{ModelPath: devtree("Raspberry Pi 500 Rev 1.0")}, "arm64", "rpi5", "", "500"},
		{"pi5/32-bit build", fstest.MapFS{
			ModelPath:   devtree("Raspberry Pi 5 Model B Rev 1.0"),
			CPUInfoPath: {Data: []byte(cpuinfo(t, "rpi5.txt"))},
		}, "arm", "", "neon", "no board profile matches"},
		{"zero w", fstest.MapFS{
			ModelPath:   devtree("Raspberry Pi Zero W Rev 1.1"),
			CPUInfoPath: {Data: []byte(cpuinfo(t, "rpi-zero-w.txt"))},
		}, "arm", "rpi-zero", "generic", "Zero W"},
		{"pi 1 model B", fstest.MapFS{ModelPath: devtree("Raspberry Pi Model B Rev 2")}, "arm", "rpi-zero", "", "Model B Rev 2"},
		{"zero 2 w/64-bit", fstest.MapFS{
			ModelPath:   devtree("Raspberry Pi Zero 2 W Rev 1.0"),
			CPUInfoPath: {Data: []byte(cpuinfo(t, "rpi-zero2w-64.txt"))},
		}, "arm64", "rpi-zero2w", "neon", "Zero 2 W"},
		{"zero 2 w/32-bit", fstest.MapFS{ModelPath: devtree("Raspberry Pi Zero 2 W Rev 1.0")}, "arm", "rpi-armv7", "", "Zero 2 W"},
		{"3 B+/32-bit", fstest.MapFS{
			ModelPath:   devtree("Raspberry Pi 3 Model B Plus Rev 1.3"),
			CPUInfoPath: {Data: []byte(cpuinfo(t, "rpi3bplus-32.txt"))},
		}, "arm", "rpi-armv7", "neon", "3 Model B Plus"},
		{"3 B+/64-bit", fstest.MapFS{ModelPath: devtree("Raspberry Pi 3 Model B Plus Rev 1.3")}, "arm64", "rpi3", "", "3 Model B Plus"},
		{"3 A+", fstest.MapFS{ModelPath: devtree("Raspberry Pi 3 Model A Plus Rev 1.0")}, "arm64", "rpi3", "", "3 Model A Plus"},
		{"pi 2", fstest.MapFS{ModelPath: devtree("Raspberry Pi 2 Model B Rev 1.1")}, "arm", "rpi-armv7", "", "2 Model B"},
		{"model in cpuinfo only", fstest.MapFS{
			CPUInfoPath: {Data: []byte(cpuinfo(t, "rpi4-64.txt"))},
		}, "arm64", "rpi4", "neon", "Raspberry Pi 4 Model B Rev 1.4"},
		{"unknown pi", fstest.MapFS{ModelPath: devtree("Raspberry Pi 9 Model Z Rev 1.0")}, "arm64", "", "", `unknown Raspberry Pi model "Raspberry Pi 9 Model Z Rev 1.0"`},
		{"pi4/amd64 build", fstest.MapFS{ModelPath: devtree("Raspberry Pi 4 Model B Rev 1.4")}, "amd64", "", "", "a linux/amd64 build"},
		{"amd64 gateway without avx2", fstest.MapFS{
			CPUInfoPath: {Data: []byte(cpuinfo(t, "amd64-gateway.txt"))},
		}, "amd64", "amd64-gateway", "generic", "Atom(TM) x6425E"},
		{"amd64 gateway with avx-vnni", fstest.MapFS{
			CPUInfoPath: {Data: []byte(cpuinfo(t, "amd64-vnni.txt"))},
		}, "amd64", "amd64-gateway", "avxvnni", "2 processors"},
		{"arm64 gateway", fstest.MapFS{
			ModelPath:   devtree("Radxa ROCK 3 Model A"),
			CPUInfoPath: {Data: []byte(cpuinfo(t, "arm64-gateway.txt"))},
		}, "arm64", "arm64-gateway", "sdot", `Cortex-A55), 4 processors, device-tree model "Radxa ROCK 3 Model A"`},
		{"arm64 gateway, 32-bit build", fstest.MapFS{
			CPUInfoPath: {Data: []byte(cpuinfo(t, "arm64-gateway.txt"))},
		}, "arm", "", "neon", "cpuinfo: arm64, Cortex-A55, 4 processors; a linux/arm build"},
		{"nothing", fstest.MapFS{}, "arm64", "", "", "no device-tree model; no /proc/cpuinfo"},
		{"garbage cpuinfo", fstest.MapFS{
			CPUInfoPath: {Data: []byte("\x00\x01binary junk\nno colon here\n")},
		}, "amd64", "", "", "proc/cpuinfo: no \"key : value\" lines"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := DetectFor(tc.fs, tc.goarch)
			got := ""
			if d.Board != nil {
				got = d.Board.Name()
			}
			if got != tc.want {
				t.Errorf("board %q, want %q (reason %q)", got, tc.want, d.Reason)
			}
			if d.Kernel != tc.kernel {
				t.Errorf("kernel %q, want %q", d.Kernel, tc.kernel)
			}
			if !strings.Contains(d.Reason, tc.why) {
				t.Errorf("reason %q does not say %q", d.Reason, tc.why)
			}
			if strings.Contains(d.Reason, "also matches") {
				t.Errorf("ambiguous: %s", d.Reason)
			}
		})
	}
}

func TestParseCPUInfo(t *testing.T) {
	for _, tc := range []struct {
		file, arch, part, model string
		processors              int
		flag                    string
	}{
		{"rpi4-64.txt", "arm64", "0xd08", "Raspberry Pi 4 Model B Rev 1.4", 4, "asimd"},
		{"rpi5.txt", "arm64", "0xd0b", "Raspberry Pi 5 Model B Rev 1.0", 4, "asimddp"},
		{"rpi-zero-w.txt", "armv6", "0xb76", "Raspberry Pi Zero W Rev 1.1", 1, "vfp"}, // reports "CPU architecture: 7"
		{"rpi3bplus-32.txt", "armv7", "0xd03", "Raspberry Pi 3 Model B Plus Rev 1.3", 4, "neon"},
		{"amd64-gateway.txt", "amd64", "", "", 4, "sse4_2"},
		{"arm64-gateway.txt", "arm64", "0xd05", "", 4, "asimddp"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			c, err := ParseCPUInfo(strings.NewReader(cpuinfo(t, tc.file)))
			if err != nil {
				t.Fatal(err)
			}
			if c.Arch != tc.arch || c.Part != tc.part || c.Model != tc.model || c.Processors != tc.processors || !c.HasFlag(tc.flag) {
				t.Errorf("got arch %q part %q model %q processors %d flags %v; want %q %q %q %d with %q",
					c.Arch, c.Part, c.Model, c.Processors, c.Flags, tc.arch, tc.part, tc.model, tc.processors, tc.flag)
			}
		})
	}
}

func TestParseCPUInfoHostile(t *testing.T) {
	for name, text := range map[string]string{
		"empty":           "",
		"colons only":     ":::\n: :\n",
		"long line":       "flags : " + strings.Repeat("x", 2<<20) + "\n",
		"binary":          "\xff\xfe\x00\x01",
		"bad arch number": "processor : 0\nCPU architecture: banana\n",
	} {
		t.Run(name, func(t *testing.T) {
			c, err := ParseCPUInfo(strings.NewReader(text))
			if err == nil && c.Arch != "" {
				t.Errorf("arch %q from %q", c.Arch, name)
			}
		})
	}
}

func TestReadHostLimits(t *testing.T) {
	h := ReadHost(fstest.MapFS{
		ModelPath:      {Data: []byte(strings.Repeat("Raspberry Pi 4 ", 1000))},
		ModelPathSysfs: devtree("Raspberry Pi 5 Model B Rev 1.0\n"),
		CPUInfoPath:    {Data: make([]byte, maxCPUInfoBytes+1)},
	}, "arm64")
	if h.Model != "Raspberry Pi 5 Model B Rev 1.0" || h.ModelSource != ModelPathSysfs {
		t.Errorf("model %q from %q, want the sysfs one after the oversized one", h.Model, h.ModelSource)
	}
	if len(h.Problems) != 2 || !strings.Contains(h.Problems[0], "longer than 4096 bytes") || !strings.HasPrefix(h.Problems[1], CPUInfoPath) {
		t.Errorf("problems %q", h.Problems)
	}
}

func TestReadHostUnreadable(t *testing.T) {
	root := t.TempDir()
	// proc/cpuinfo is a directory: it exists but cannot be read as a file.
	if err := os.MkdirAll(filepath.Join(root, "proc", "cpuinfo"), 0o755); err != nil {
		t.Fatal(err)
	}
	d := DetectFor(os.DirFS(root), "amd64")
	if d.Board != nil || !strings.Contains(d.Reason, CPUInfoPath+": ") {
		t.Errorf("board %v, reason %q: want none, naming %s", d.Board, d.Reason, CPUInfoPath)
	}
}

// TestDetectHere runs detection on this machine: whatever it finds, the
// reason is filled in, and a board it finds matches this build.
func TestDetectHere(t *testing.T) {
	d := Detect(os.DirFS("/"))
	if d.Reason == "" {
		t.Fatal("empty reason")
	}
	if d.Board != nil {
		if p := d.Board.Profile(); p.GOARCH != d.Host.GOARCH {
			t.Errorf("detected %s (GOARCH %s) for a %s build", p.Name, p.GOARCH, d.Host.GOARCH)
		}
	}
	t.Logf("board %v: %s (kernel %q)", d.Board, d.Reason, d.Kernel)
}
