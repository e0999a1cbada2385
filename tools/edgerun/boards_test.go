package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/edgerun/edgerun/boards"
)

const pi4CPUInfo = `processor	: 0
BogoMIPS	: 108.00
Features	: fp asimd evtstrm crc32 cpuid
CPU implementer	: 0x41
CPU architecture: 8
CPU part	: 0xd08

processor	: 1
Features	: fp asimd evtstrm crc32 cpuid
CPU architecture: 8
CPU part	: 0xd08

Revision	: d03114
Model		: Raspberry Pi 4 Model B Rev 1.4
`

// onSystem makes the boards command detect on root for a goarch build
// for the rest of the test.
func onSystem(t *testing.T, root fstest.MapFS, goarch string) {
	t.Helper()
	oldRoot, oldArch := boardsRoot, boardsGOARCH
	boardsRoot, boardsGOARCH = root, goarch
	t.Cleanup(func() { boardsRoot, boardsGOARCH = oldRoot, oldArch })
}

func pi4System() fstest.MapFS {
	return fstest.MapFS{
		boards.ModelPath:   {Data: []byte("Raspberry Pi 4 Model B Rev 1.4\x00")},
		boards.CPUInfoPath: {Data: []byte(pi4CPUInfo)},
	}
}

func TestBoardsTable(t *testing.T) {
	onSystem(t, pi4System(), "arm64")
	r := runArgs("boards")
	r.wantOK(t)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 1+8+1+2 || !strings.HasPrefix(lines[0], "   BOARD ") {
		t.Fatalf("want a header, 8 rows, a blank line and the detection:\n%s", r.stdout)
	}
	marked := 0
	for _, l := range lines[1:9] {
		if strings.HasPrefix(l, "*") {
			marked++
			if !strings.HasPrefix(l, "*  rpi4 ") || !strings.Contains(l, "linux/arm64") || !strings.Contains(l, "pinctrl-bcm2711") {
				t.Errorf("marked row %q", l)
			}
		}
		if l != strings.TrimRight(l, " ") {
			t.Errorf("trailing blanks: %q", l)
		}
	}
	if marked != 1 {
		t.Errorf("%d rows marked", marked)
	}
	for _, want := range []string{
		"   rpi5           linux/arm64  4      4        sdot     1024 MiB  gpiochip0 (pinctrl-rp1)      /dev/i2c-1  Raspberry Pi 5",
		"   rpi-zero       linux/arm/6  1      1        generic  128 MiB",
		`detected: rpi4: device-tree model "Raspberry Pi 4 Model B Rev 1.4", linux/arm64 build` + "\n",
		"kernel on this CPU: neon\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestBoardsNoneDetected(t *testing.T) {
	onSystem(t, fstest.MapFS{}, "arm64")
	r := runArgs("boards")
	r.wantOK(t)
	if strings.Contains(r.stdout, "\n*") || !strings.HasSuffix(r.stdout,
		"\ndetected: none: no board profile matches: no device-tree model; no /proc/cpuinfo; a linux/arm64 build\n") {
		t.Errorf("output:\n%s", r.stdout)
	}
}

func TestBoardsJSON(t *testing.T) {
	for _, tc := range []struct {
		name   string
		root   fstest.MapFS
		goarch string
		board  string // "" for null
		kernel string
	}{
		{"pi4", pi4System(), "arm64", "rpi4", "neon"},
		{"pi4 32-bit", pi4System(), "arm", "rpi-armv7", "neon"},
		{"nothing", fstest.MapFS{}, "arm64", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			onSystem(t, tc.root, tc.goarch)
			r := runArgs("boards", "--json")
			r.wantOK(t)
			var got struct {
				Boards   []boards.Profile `json:"boards"`
				Detected struct {
					Board  *string     `json:"board"`
					Reason string      `json:"reason"`
					Kernel string      `json:"kernel"`
					Host   boards.Host `json:"host"`
				} `json:"detected"`
				Host *hostReport `json:"host"`
			}
			dec := json.NewDecoder(strings.NewReader(r.stdout))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("%v in\n%s", err, r.stdout)
			}
			if len(got.Boards) != 8 || got.Boards[0].Name != "amd64-gateway" || got.Host != nil {
				t.Fatalf("%d boards, first %q, host %v", len(got.Boards), got.Boards[0].Name, got.Host)
			}
			for _, p := range got.Boards {
				b, _ := boards.Lookup(p.Name)
				if want := b.Profile(); p.Target() != want.Target() || len(p.Pins) != len(want.Pins) || p.GPIO != want.GPIO {
					t.Errorf("%s does not round-trip: %+v", p.Name, p)
				}
			}
			board := ""
			if got.Detected.Board != nil {
				board = *got.Detected.Board
			}
			if board != tc.board || got.Detected.Kernel != tc.kernel || got.Detected.Reason == "" || got.Detected.Host.GOARCH != tc.goarch {
				t.Errorf("detected %q kernel %q reason %q host %+v", board, got.Detected.Kernel, got.Detected.Reason, got.Detected.Host)
			}
			if tc.board == "" && !strings.Contains(r.stdout, `"board": null`) {
				t.Errorf("no board is not null:\n%s", r.stdout)
			}
		})
	}
}

func TestBoardsOne(t *testing.T) {
	onSystem(t, pi4System(), "arm64")
	r := runArgs("boards", "rpi4")
	r.wantOK(t)
	for _, want := range []string{
		"board          rpi4 (this system)\n",
		"build          CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath -ldflags='-s -w' -o bin/cross/edgerun-linux-arm64 ./tools/edgerun\n",
		"gpio           gpiochip0 (pinctrl-bcm2711)\n",
		`i2c            /dev/i2c-1: SDA pin 3, SCL pin 5 (periph name "1")`,
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	for _, row := range []string{"I2C1 SDA GPIO2 3 | 4 5V", "GPIO27 13 | 14 GND", "GND 39 | 40 GPIO21 PCM DOUT, SPI1 SCLK"} {
		if !hasRow(r.stdout, row) {
			t.Errorf("no header row %q:\n%s", row, r.stdout)
		}
	}
	r = runArgs("boards", "rpi-zero")
	r.wantOK(t)
	if !strings.Contains(r.stdout, "board          rpi-zero\n") || !strings.Contains(r.stdout, "GOARCH=arm GOARM=6 go build") ||
		!strings.Contains(r.stdout, "-o bin/cross/edgerun-linux-armv6 ") {
		t.Errorf("rpi-zero:\n%s", r.stdout)
	}
	r = runArgs("boards", "amd64-gateway")
	r.wantOK(t)
	if !strings.Contains(r.stdout, "gpio           -\n") || !strings.Contains(r.stdout, "i2c            -\n") || strings.Contains(r.stdout, "header") {
		t.Errorf("amd64-gateway:\n%s", r.stdout)
	}
}

func TestBoardsUnknown(t *testing.T) {
	runArgs("boards", "rpi9").wantFail(t, 1, `edgerun: boards: unknown board "rpi9" (known: amd64-gateway, arm64-gateway, rpi-armv7, `)
	runArgs("boards", "--jsn").wantFail(t, 2, "edgerun: unknown flag --jsn")
}

// TestBoardsProbe loads the real periph host drivers. Without hardware
// they find nothing and say why; with EDGERUN_BOARD_TESTS=1 on a Pi they
// must find the header's GPIO pins and I²C bus 1.
func TestBoardsProbe(t *testing.T) {
	r := runArgs("boards", "--probe", "--json")
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	var got struct {
		Host *hostReport `json:"host"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	h := got.Host
	if h == nil || len(h.Loaded)+len(h.Skipped)+len(h.Failed) == 0 {
		t.Fatalf("no drivers reported: %+v", h)
	}
	if os.Getenv("EDGERUN_BOARD_TESTS") == "1" {
		if h.GPIO == 0 || !strings.Contains(strings.Join(h.I2C, " "), "/dev/i2c-1") {
			t.Errorf("on a board, want GPIO pins and /dev/i2c-1: %+v", h)
		}
	}
	r = runArgs("boards", "--probe")
	if r.code != 0 || !strings.Contains(r.stdout, "\nperiph host drivers\n  loaded ") || !strings.Contains(r.stdout, "  gpio pins  ") {
		t.Errorf("%v", r)
	}
}

// hasRow reports whether a line of out has the words of row, however the
// table pads them.
func hasRow(out, row string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.Join(strings.Fields(l), " ") == row {
			return true
		}
	}
	return false
}
