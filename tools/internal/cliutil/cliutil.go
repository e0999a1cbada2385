package cliutil

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"

	"github.com/alecthomas/kong"
)

// Exit codes of every edgerun program.
const (
	ExitOK      = 0 // success (and --help)
	ExitFailure = 1 // the command ran and failed: bad file, bad key, I/O error
	ExitUsage   = 2 // the command line is wrong
)

// Env is what a command's Run method receives: where to write, and who is
// running it.
type Env struct {
	Program string // program name, e.g. "edgerun"
	Version string // resolved program version, see ResolveVersion
	Stdout  io.Writer
	Stderr  io.Writer
}

// App is one command-line program.
type App struct {
	// Name is the program name used in help and in error lines.
	Name string
	// Description is the paragraph at the top of --help.
	Description string
	// Version is the program version as set with -ldflags (usually
	// "dev"); Run resolves it with ResolveVersion.
	Version string
	// CLI is the kong grammar: a pointer to a fresh struct whose fields
	// tagged `cmd:""` are the subcommands. Each subcommand type has a
	// method Run(*Env) error.
	CLI any
}

// Run parses args (without the program name), runs the selected command
// and returns the process exit code. --help prints to stdout and returns
// ExitOK; no arguments at all print the help to stderr and return
// ExitUsage. Every error is printed as exactly one line on stderr.
func (a *App) Run(args []string, stdout, stderr io.Writer) int {
	env := &Env{Program: a.Name, Version: ResolveVersion(a.Version), Stdout: stdout, Stderr: stderr}
	helpOut, noArgs := stdout, len(args) == 0
	if noArgs {
		args, helpOut = []string{"--help"}, stderr
	}
	// kong calls Exit after printing help. Record the call instead of
	// exiting, so that Run stays testable and returns normally.
	exited, exitCode := false, ExitOK
	parser, err := kong.New(a.CLI,
		kong.Name(a.Name),
		kong.Description(a.Description),
		kong.Writers(helpOut, stderr),
		kong.Exit(func(code int) {
			if !exited {
				exited, exitCode = true, code
			}
		}),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true, WrapUpperBound: 100}),
		kong.Bind(env),
	)
	if err != nil { // a bug in the grammar
		Errorf(stderr, a.Name, "internal error: %v", err)
		return ExitFailure
	}
	ctx, err := parser.Parse(args)
	switch {
	case exited && noArgs:
		return ExitUsage
	case exited:
		return exitCode
	case err != nil:
		a.usageError(stderr, err)
		return ExitUsage
	}
	if err := ctx.Run(); err != nil {
		PrintError(stderr, a.Name, err)
		return ExitFailure
	}
	return ExitOK
}

// usageError prints a kong parse error as one line that names the
// command and points at its help.
func (a *App) usageError(stderr io.Writer, err error) {
	cmd := a.Name
	var pe *kong.ParseError
	if errors.As(err, &pe) && pe.Context != nil {
		for _, p := range pe.Context.Path {
			if p.Command != nil {
				cmd += " " + p.Command.Name
			}
		}
	}
	Errorf(stderr, a.Name, "%s (see '%s --help')", OneLine(err.Error()), cmd)
}

// PrintError prints err as the single line "program: err" on w.
func PrintError(w io.Writer, program string, err error) {
	fmt.Fprintf(w, "%s: %s\n", program, OneLine(err.Error()))
}

// Errorf prints "program: " and the formatted message as one line on w.
func Errorf(w io.Writer, program, format string, args ...any) {
	fmt.Fprintf(w, "%s: %s\n", program, OneLine(fmt.Sprintf(format, args...)))
}

// OneLine makes s safe to print as (part of) one line on a terminal: line
// breaks, tabs and other control characters, including the escape that
// starts terminal control sequences, become spaces.
func OneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}

// OpError wraps a command's error with the operation and its operand, as
// in "inspect model.erm: <err>". An *fs.PathError for the same path loses
// its repeated path: "inspect model.erm: open: no such file or directory".
func OpError(op, operand string, err error) error {
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == operand && err == error(pe) {
		return &opError{op: op, operand: operand, msg: pe.Op + ": " + pe.Err.Error(), err: err}
	}
	return &opError{op: op, operand: operand, msg: err.Error(), err: err}
}

type opError struct {
	op, operand, msg string
	err              error
}

func (e *opError) Error() string {
	if e.operand == "" {
		return e.op + ": " + e.msg
	}
	return e.op + " " + e.operand + ": " + e.msg
}

func (e *opError) Unwrap() error { return e.err }

// WriteJSON writes v to w as indented JSON followed by a newline, without
// HTML escaping.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// Int is an int flag whose value may be negative and given as the next
// argument: kong takes the "-1" of `--threads -1` for a short flag, and
// would refuse it with advice about quoting instead of with the
// command's own range check. Any argument is taken as the value; one
// that is not an integer is an error.
type Int int

// Decode reads the flag's value.
func (n *Int) Decode(ctx *kong.DecodeContext) error {
	t := ctx.Scan.Pop()
	if t.IsEOL() {
		return errors.New("expected an integer")
	}
	s := t.String()
	v, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("expected an integer but got %q", s)
	}
	*n = Int(v)
	return nil
}
