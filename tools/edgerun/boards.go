package main

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strings"

	"github.com/edgerun/edgerun/boards"
	"github.com/edgerun/edgerun/tools/internal/cliutil"
)

// boardsCmd is the boards subcommand.
type boardsCmd struct {
	Name  string `arg:"" optional:"" name:"board" help:"Show one board in full: its build line, header pins and I²C buses."`
	JSON  bool   `name:"json" help:"Print one JSON object: the boards and the detection."`
	Probe bool   `name:"probe" help:"Also load periph's host drivers and list the drivers, I²C buses and GPIO pins they find."`
}

// Detection inputs; tests point them at a recorded system.
var (
	boardsRoot   fs.FS = os.DirFS("/")
	boardsGOARCH       = runtime.GOARCH
)

// Run lists the board profiles and marks the one this system is.
func (c *boardsCmd) Run(env *cliutil.Env) error {
	all := boards.All()
	if c.Name != "" {
		b, ok := boards.Lookup(c.Name)
		if !ok {
			names := make([]string, len(all))
			for i, b := range all {
				names[i] = b.Name()
			}
			return fmt.Errorf("boards: unknown board %q (known: %s)", c.Name, strings.Join(names, ", "))
		}
		all = []boards.Board{b}
	}
	d := boards.DetectFor(boardsRoot, boardsGOARCH)
	var probe *hostReport
	if c.Probe {
		r, err := probeHost()
		if err != nil {
			return fmt.Errorf("boards --probe: %w", err)
		}
		probe = &r
	}
	if c.JSON {
		return cliutil.WriteJSON(env.Stdout, newBoardsReport(all, d, probe))
	}
	var b bytes.Buffer
	if c.Name != "" {
		writeBoard(&b, all[0].Profile(), d.Board != nil && d.Board.Name() == c.Name)
	} else {
		writeBoardTable(&b, all, d)
	}
	writeDetection(&b, d)
	if probe != nil {
		writeProbe(&b, probe)
	}
	_, err := env.Stdout.Write(trimLines(b.Bytes()))
	return err
}

// boardsReport is the --json output.
type boardsReport struct {
	Boards   []boards.Profile `json:"boards"`
	Detected detectionJSON    `json:"detected"`
	Host     *hostReport      `json:"host,omitempty"` // with --probe
}

type detectionJSON struct {
	Board  *string     `json:"board"` // null when none matches
	Reason string      `json:"reason"`
	Kernel string      `json:"kernel"` // the engine kernel this CPU selects; "" when unknown
	Host   boards.Host `json:"host"`
}

func newBoardsReport(all []boards.Board, d boards.Detection, probe *hostReport) boardsReport {
	r := boardsReport{Boards: make([]boards.Profile, len(all)), Host: probe}
	for i, b := range all {
		r.Boards[i] = b.Profile()
	}
	r.Detected = detectionJSON{Reason: d.Reason, Kernel: d.Kernel, Host: d.Host}
	if d.Board != nil {
		name := d.Board.Name()
		r.Detected.Board = &name
	}
	return r
}

// writeBoardTable writes one row per board, the detected one marked "*".
func writeBoardTable(w io.Writer, all []boards.Board, d boards.Detection) {
	tw := newTable(w)
	fmt.Fprintln(tw, "\tBOARD\tTARGET\tCORES\tTHREADS\tKERNEL\tMEMORY\tGPIO\tI2C\tDESCRIPTION")
	for _, b := range all {
		p := b.Profile()
		mark := ""
		if d.Board != nil && d.Board.Name() == p.Name {
			mark = "*"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n", mark, p.Name, p.Target(), p.Cores, p.Threads,
			p.Kernel, mebibytes(p.MemoryBudget), gpioCell(p.GPIO), i2cCell(p.I2C), p.Description)
	}
	tw.Flush()
}

// writeBoard writes one board in full.
func writeBoard(w io.Writer, p boards.Profile, detected bool) {
	tw := newTable(w)
	name := p.Name
	if detected {
		name += " (this system)"
	}
	fmt.Fprintf(tw, "board\t%s\n", name)
	fmt.Fprintf(tw, "description\t%s\n", p.Description)
	fmt.Fprintf(tw, "target\t%s\n", p.Target())
	fmt.Fprintf(tw, "build\t%s\n", p.BuildCommand())
	fmt.Fprintf(tw, "cpu\t%s\n", p.CPU)
	fmt.Fprintf(tw, "cores\t%d\n", p.Cores)
	fmt.Fprintf(tw, "threads\t%d (default inference threads)\n", p.Threads)
	fmt.Fprintf(tw, "kernel\t%s\n", p.Kernel)
	fmt.Fprintf(tw, "memory budget\t%s\n", mebibytes(p.MemoryBudget))
	fmt.Fprintf(tw, "gpio\t%s\n", gpioCell(p.GPIO))
	if p.GPIO.Note != "" {
		fmt.Fprintf(tw, "\t%s\n", p.GPIO.Note)
	}
	if len(p.I2C) == 0 {
		fmt.Fprintf(tw, "i2c\t-\n")
	}
	for i, bus := range p.I2C {
		label := ""
		if i == 0 {
			label = "i2c"
		}
		fmt.Fprintf(tw, "%s\t%s: SDA pin %d, SCL pin %d (periph name %q)\n", label, bus.Device, bus.SDA, bus.SCL, fmt.Sprint(bus.Number))
		if bus.Note != "" {
			fmt.Fprintf(tw, "\t%s\n", bus.Note)
		}
	}
	tw.Flush()
	if len(p.Pins) == 0 {
		return
	}
	// The header as it sits on the board: odd pins left, even pins right.
	fmt.Fprintln(w, "\nheader (pin: name, function)")
	tw = newTable(w)
	for i := 0; i+1 < len(p.Pins); i += 2 {
		l, r := p.Pins[i], p.Pins[i+1]
		fmt.Fprintf(tw, "  %s\t%s\t%2d | %-2d\t%s\t%s\n", l.Func, l.Name, l.Header, r.Header, r.Name, r.Func)
	}
	tw.Flush()
}

func writeDetection(w io.Writer, d boards.Detection) {
	name := "none"
	if d.Board != nil {
		name = d.Board.Name()
	}
	fmt.Fprintf(w, "\ndetected: %s: %s\n", name, d.Reason)
	if d.Kernel != "" {
		fmt.Fprintf(w, "kernel on this CPU: %s\n", d.Kernel)
	}
}

func writeProbe(w io.Writer, r *hostReport) {
	fmt.Fprintln(w, "\nperiph host drivers")
	tw := newTable(w)
	fmt.Fprintf(tw, "  loaded\t%s\n", orDash(strings.Join(r.Loaded, ", ")))
	writeLines(tw, "skipped", len(r.Skipped), func(i int) string { return r.Skipped[i] })
	writeLines(tw, "failed", len(r.Failed), func(i int) string { return r.Failed[i] })
	fmt.Fprintf(tw, "  i2c buses\t%s\n", orDash(strings.Join(r.I2C, ", ")))
	fmt.Fprintf(tw, "  gpio pins\t%d\n", r.GPIO)
	tw.Flush()
}

func gpioCell(g boards.GPIOChip) string {
	if g.Device == "" {
		return "-"
	}
	return fmt.Sprintf("%s (%s)", strings.TrimPrefix(g.Device, "/dev/"), g.Label)
}

func i2cCell(buses []boards.I2CBus) string {
	if len(buses) == 0 {
		return "-"
	}
	devs := make([]string, len(buses))
	for i, b := range buses {
		devs[i] = b.Device
	}
	return strings.Join(devs, ",")
}

func mebibytes(n int64) string { return fmt.Sprintf("%d MiB", n>>20) }
