package sdk

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin/runner"
)

// Bounds on what the host reads from a plugin's own stdout and stderr.
const (
	// maxHandshakeLine bounds go-plugin's handshake line (protocol
	// versions, address, and the plugin's base64 TLS certificate: under 2
	// KiB in practice). A plugin that writes more than this to stdout
	// before a newline fails to start at once.
	maxHandshakeLine = 16 << 10
	// maxLogLine bounds one line of a plugin's stderr as it reaches the
	// host's log; the rest of a longer line is dropped and counted.
	maxLogLine = 8 << 10
	// pipeGrace is how long the host keeps reading a plugin's stdout and
	// stderr after the plugin's process (and its process group) is gone:
	// a grandchild that escaped the group can hold the pipes open, and the
	// host closes its ends rather than wait for it.
	pipeGrace = time.Second
)

// pinnedBinary is a plugin binary held so that what is executed is exactly
// what was hashed: renaming or replacing the file after the check does not
// change what runs.
type pinnedBinary struct {
	sum   []byte
	exec  string     // the path to execute
	files []*os.File // inherited by the child (cmd.ExtraFiles)
	dir   string     // a private copy's directory, removed after the run
}

// started releases what the parent no longer needs once the child runs.
func (b *pinnedBinary) started() {
	if b == nil {
		return
	}
	for _, f := range b.files {
		f.Close()
	}
	b.files = nil
}

// exited removes a private copy once the process is gone. It may be
// called more than once, and on nil.
func (b *pinnedBinary) exited() {
	if b == nil {
		return
	}
	b.started()
	if b.dir != "" {
		os.RemoveAll(b.dir)
		b.dir = ""
	}
}

// pinBinary opens the binary at path once, hashes that open file and
// prepares to execute the same file: on Linux the open descriptor itself
// (inherited as fd 3 and executed as /proc/self/fd/3, which works for
// #! scripts too since the interpreter opens the same descriptor), elsewhere
// a copy made while hashing into a private 0700 directory.
func pinBinary(path string) (*pinnedBinary, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file (%v)", path, fi.Mode().Type())
	}
	if pinByDescriptor() {
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			f.Close()
			return nil, err
		}
		return &pinnedBinary{sum: h.Sum(nil), exec: "/proc/self/fd/3", files: []*os.File{f}}, nil
	}
	defer f.Close()
	dir, err := os.MkdirTemp("", "edgerun-plugin-")
	if err != nil {
		return nil, err
	}
	b := &pinnedBinary{dir: dir, exec: filepath.Join(dir, filepath.Base(path))}
	dst, err := os.OpenFile(b.exec, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o700)
	if err == nil {
		h := sha256.New()
		_, err = io.Copy(io.MultiWriter(h, dst), f)
		if cerr := dst.Close(); err == nil {
			err = cerr
		}
		b.sum = h.Sum(nil)
	}
	if err != nil {
		b.exited()
		return nil, err
	}
	return b, nil
}

// proc is the plugin process as go-plugin sees it (a runner.Runner): it
// starts the process in its own process group, kills the whole group when
// go-plugin kills it or when it exits, bounds what is read from its stdout
// (the handshake line) and stderr (log lines), and never waits on pipes
// beyond pipeGrace after the process is gone.
type proc struct {
	cmd      *exec.Cmd
	name     string // the binary's path, for messages
	pin      *pinnedBinary
	launcher bool // cmd runs a launcher, which runs the binary
	// socketDir is the private directory go-plugin made for the plugin's
	// Unix socket. go-plugin removes it in Client.Kill, which it never
	// reaches when the process could not be started (exec failed): the
	// runner removes it once the process is gone or failed to start.
	socketDir string
	log       *lineSplitter // the plugin's stderr, line by line

	outR, errR *os.File
	toClient   *io.PipeWriter // the handshake line, for go-plugin
	fromProc   *io.PipeReader

	mu       sync.Mutex
	pid      int
	killed   bool // Kill was called (perhaps before Start)
	reaped   bool
	state    *os.ProcessState
	stdout   error // why stdout was refused (a handshake line too long)
	copiers  sync.WaitGroup
	finished chan struct{} // closed once reaped and the pipes are closed
}

var _ runner.Runner = (*proc)(nil)

func newProc(cmd *exec.Cmd, name string, pin *pinnedBinary, launcher bool, log *lineSplitter) *proc {
	pr, pw := io.Pipe()
	return &proc{cmd: cmd, name: name, pin: pin, launcher: launcher, log: log, toClient: pw, fromProc: pr, finished: make(chan struct{})}
}

// Start implements runner.Runner.
func (p *proc) Start(context.Context) error {
	outR, outW, err := os.Pipe()
	if err != nil {
		return err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return err
	}
	p.cmd.Stdin = nil // the host's stdin (a request on `--input -`) is not the plugin's
	p.cmd.Stdout, p.cmd.Stderr = outW, errW
	setProcAttr(p.cmd)
	err = startProcess(p.cmd)
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		p.toClient.Close()
		err = p.startError(err)
		if p.pin != nil {
			p.pin.exited()
		}
		p.removeSocketDir()
		return err
	}
	if p.pin != nil {
		p.pin.started()
	}
	p.outR, p.errR = outR, errR
	p.mu.Lock()
	p.pid = p.cmd.Process.Pid
	if p.killed {
		killGroup(p.pid) // killed while it was being started
	}
	p.mu.Unlock()
	p.copiers.Add(2)
	go p.copyStdout()
	go p.copyStderr()
	go p.reap()
	return nil
}

// startError explains why the binary could not be executed.
func (p *proc) startError(err error) error {
	if p.launcher {
		return err // about the launcher, not the binary
	}
	head := p.head()
	switch {
	case errors.Is(err, syscall.ENOEXEC):
		if m, ok := elfMachine(head); ok {
			if want, known := hostMachine(); known && m != want {
				return fmt.Errorf("%s is built for %v, and this host is %s/%s (rebuild it with GOARCH=%s, or start it through an emulator with WithLauncher): %w",
					p.name, m, runtime.GOOS, runtime.GOARCH, runtime.GOARCH, err)
			}
		}
		return fmt.Errorf("%s is not an executable this system can run: %w", p.name, err)
	case errors.Is(err, syscall.ENOENT) && bytes.HasPrefix(head, []byte("#!")):
		interp, _, _ := bytes.Cut(bytes.TrimPrefix(head, []byte("#!")), []byte("\n"))
		return fmt.Errorf("%s: its interpreter %q cannot be found: %w", p.name, strings.TrimSpace(string(interp)), err)
	}
	return err
}

// head returns the first bytes of the pinned binary.
func (p *proc) head() []byte {
	buf := make([]byte, 256)
	var n int
	switch {
	case p.pin != nil && len(p.pin.files) > 0:
		n, _ = p.pin.files[0].ReadAt(buf, 0)
	default:
		path := p.name
		if p.pin != nil {
			path = p.pin.exec
		}
		if f, err := os.Open(path); err == nil {
			n, _ = f.ReadAt(buf, 0)
			f.Close()
		}
	}
	return buf[:n]
}

// copyStdout passes the first line of the plugin's stdout (go-plugin's
// handshake) to go-plugin and discards the rest; a first line longer than
// maxHandshakeLine kills the plugin.
func (p *proc) copyStdout() {
	defer p.copiers.Done()
	defer p.toClient.Close()
	line := make([]byte, 0, 1024)
	buf := make([]byte, 32<<10)
	done := false
	for {
		n, err := p.outR.Read(buf)
		if !done && n > 0 {
			chunk := buf[:n]
			i := bytes.IndexByte(chunk, '\n')
			if i >= 0 {
				chunk = chunk[:i+1]
			}
			if len(line)+len(chunk) > maxHandshakeLine {
				p.mu.Lock()
				p.stdout = fmt.Errorf("%s wrote more than %d bytes to stdout without a newline, where go-plugin's handshake line belongs (is it a plugin built with sdk.Serve?)", p.name, maxHandshakeLine)
				p.mu.Unlock()
				done = true
				p.toClient.Close() // go-plugin sees no handshake at once
				_ = p.Kill(context.Background())
			} else {
				line = append(line, chunk...)
				if i >= 0 {
					done = true
					_, _ = p.toClient.Write(line)
					p.toClient.Close()
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// copyStderr sends the plugin's stderr to the host's log, line by line,
// each line bounded by maxLogLine.
func (p *proc) copyStderr() {
	defer p.copiers.Done()
	defer p.log.flush()
	buf := make([]byte, 32<<10)
	for {
		n, err := p.errR.Read(buf)
		_, _ = p.log.Write(buf[:n])
		if err != nil {
			return
		}
	}
}

// reap waits for the plugin's process, kills what is left of its process
// group, then gives the pipes pipeGrace to reach end of file before closing
// them.
func (p *proc) reap() {
	pid := p.cmd.Process.Pid
	if waitExited(pid) {
		// Exited but not yet reaped: its pid, the group's id, cannot be
		// reused yet, so killing the group cannot hit another one.
		p.mu.Lock()
		killGroup(pid)
		p.reaped = true
		p.mu.Unlock()
		_ = p.cmd.Wait()
	} else {
		_ = p.cmd.Wait()
		p.mu.Lock()
		killGroup(pid) // best effort: the pid was just released
		p.reaped = true
		p.mu.Unlock()
	}
	p.mu.Lock()
	p.state = p.cmd.ProcessState
	p.mu.Unlock()
	copied := make(chan struct{})
	go func() { p.copiers.Wait(); close(copied) }()
	select {
	case <-copied:
	case <-time.After(pipeGrace):
		// A process outside the group holds the pipes: stop reading.
		p.outR.Close()
		p.errR.Close()
		<-copied
	}
	p.outR.Close()
	p.errR.Close()
	if p.pin != nil {
		p.pin.exited()
	}
	p.removeSocketDir()
	close(p.finished)
}

// removeSocketDir removes go-plugin's socket directory for the plugin:
// nothing of a stopped plugin stays in the temporary directory.
func (p *proc) removeSocketDir() {
	if p.socketDir != "" {
		os.RemoveAll(p.socketDir)
	}
}

// Kill implements runner.Runner: it kills the plugin's whole process group
// (the process itself where there are no groups), at once if it runs, or
// as soon as Start has started it.
func (p *proc) Kill(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.killed = true
	if p.pid != 0 && !p.reaped {
		killGroup(p.pid)
	}
	return nil
}

// Wait implements runner.Runner.
func (p *proc) Wait(context.Context) error {
	<-p.finished
	if s := p.exitState(); s != nil && !s.Success() {
		return errors.New(p.exitText())
	}
	return nil
}

func (p *proc) exitState() *os.ProcessState {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state
}

// stdoutError is why the plugin's stdout was refused, or nil.
func (p *proc) stdoutError() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stdout
}

// exited reports whether the process has been reaped.
func (p *proc) exited() bool { return p.exitState() != nil }

// exitText says how the process ended: "exited with status 3", "was killed
// by signal 9 (killed)".
func (p *proc) exitText() string {
	s := p.exitState()
	if s == nil {
		return "is still running"
	}
	if ws, ok := s.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return fmt.Sprintf("was killed by signal %d (%v)", int(ws.Signal()), ws.Signal())
	}
	return fmt.Sprintf("exited with status %d", s.ExitCode())
}

// Diagnose implements runner.Runner. The supervisor builds its own message
// from what it knows (how the process ended, its last stderr line), so
// go-plugin's list of possible causes is not added.
func (p *proc) Diagnose(context.Context) string { return "" }

// Stdout implements runner.Runner: the handshake line only.
func (p *proc) Stdout() io.ReadCloser { return p.fromProc }

// Stderr implements runner.Runner. The plugin's stderr goes to the host's
// log through proc itself, with bounded lines; go-plugin gets none of it.
func (p *proc) Stderr() io.ReadCloser { return io.NopCloser(strings.NewReader("")) }

// Name implements runner.Runner.
func (p *proc) Name() string { return p.name }

// ID implements runner.Runner.
func (p *proc) ID() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pid == 0 {
		return ""
	}
	return strconv.Itoa(p.pid)
}

// PluginToHost implements runner.AddrTranslator (the plugin runs on this host).
func (p *proc) PluginToHost(network, addr string) (string, string, error) { return network, addr, nil }

// HostToPlugin implements runner.AddrTranslator.
func (p *proc) HostToPlugin(network, addr string) (string, string, error) { return network, addr, nil }

// starting holds the processes being started (from before their start to
// the end of the handshake), with the Plugin each is for: go-plugin's
// Client.Kill waits until the handshake ends, so Close and CloseAll kill
// these themselves.
var starting = struct {
	sync.Mutex
	procs map[*proc]*Plugin
}{procs: map[*proc]*Plugin{}}

// startingFor registers pr as being started for p; the returned func
// unregisters it.
func startingFor(p *Plugin, pr *proc) func() {
	starting.Lock()
	starting.procs[pr] = p
	starting.Unlock()
	return func() {
		starting.Lock()
		delete(starting.procs, pr)
		starting.Unlock()
	}
}

// killStarting kills the processes being started for p (for every Plugin
// if p is nil).
func killStarting(p *Plugin) {
	starting.Lock()
	defer starting.Unlock()
	for pr, owner := range starting.procs {
		if p == nil || owner == p {
			_ = pr.Kill(context.Background())
		}
	}
}

// runnerFunc returns go-plugin's ClientConfig.RunnerFunc for p: go-plugin
// passes the command it prepared (its environment: the magic cookie,
// protocol versions, the client certificate, the socket directory).
func runnerFunc(p *proc) func(hclog.Logger, *exec.Cmd, string) (runner.Runner, error) {
	return func(_ hclog.Logger, spec *exec.Cmd, socketDir string) (runner.Runner, error) {
		p.cmd.Env = append(p.cmd.Env, spec.Env...)
		p.socketDir = socketDir
		return p, nil
	}
}

// elfMachine returns the machine an ELF header says the binary is for.
func elfMachine(head []byte) (elf.Machine, bool) {
	if len(head) < 20 || !bytes.HasPrefix(head, []byte(elf.ELFMAG)) {
		return 0, false
	}
	switch elf.Data(head[elf.EI_DATA]) {
	case elf.ELFDATA2LSB:
		return elf.Machine(uint16(head[18]) | uint16(head[19])<<8), true
	case elf.ELFDATA2MSB:
		return elf.Machine(uint16(head[19]) | uint16(head[18])<<8), true
	}
	return 0, false
}

// hostMachine is the ELF machine of binaries built for this GOARCH.
func hostMachine() (elf.Machine, bool) {
	m, ok := map[string]elf.Machine{
		"386": elf.EM_386, "amd64": elf.EM_X86_64, "arm": elf.EM_ARM, "arm64": elf.EM_AARCH64,
		"loong64": elf.EM_LOONGARCH, "mips": elf.EM_MIPS, "mipsle": elf.EM_MIPS, "mips64": elf.EM_MIPS,
		"mips64le": elf.EM_MIPS, "ppc64": elf.EM_PPC64, "ppc64le": elf.EM_PPC64, "riscv64": elf.EM_RISCV,
		"s390x": elf.EM_S390,
	}[runtime.GOARCH]
	return m, ok
}

// lineSplitter splits what it is given into lines for emit, each at most
// max bytes: the rest of a longer line is dropped, and the emitted part
// ends with how much was.
//
// A line that starts a Go crash report ("panic: ", "fatal error: ") and
// every line after it (the goroutine traces) are emitted as a crash, and
// the first such line is what lastLine reports: a plugin that panics is
// described by its panic, not by the last frame of its stack.
type lineSplitter struct {
	mu      sync.Mutex
	max     int
	buf     []byte
	dropped int
	last    string // the last line emitted
	crash   string // the line that started a crash report, if any
	emit    func(line []byte, crash bool)
}

func newLineSplitter(max int, emit func(line []byte, crash bool)) *lineSplitter {
	return &lineSplitter{max: max, emit: emit}
}

// summary says what the plugin's stderr tells of its end: "; it crashed:
// LINE" with the line that started a crash report, else "; its last
// stderr line: LINE", or "" when there was none.
func (w *lineSplitter) summary() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.crash != "":
		return "; it crashed: " + w.crash
	case w.last != "":
		return "; its last stderr line: " + w.last
	}
	return ""
}

func (w *lineSplitter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		part := b
		if i >= 0 {
			part = b[:i]
		}
		if room := w.max - len(w.buf); len(part) > room {
			w.dropped += len(part) - max(room, 0)
			part = part[:max(room, 0)]
		}
		w.buf = append(w.buf, part...)
		if i < 0 {
			break
		}
		w.line()
		b = b[i+1:]
	}
	return n, nil
}

// line emits the buffered line; w.mu is held.
func (w *lineSplitter) line() {
	line := bytes.TrimRight(w.buf, "\r")
	if w.dropped > 0 {
		line = fmt.Appendf(line, " … (%d more bytes of this line dropped)", w.dropped)
	}
	if len(line) > 0 {
		if w.crash == "" && (bytes.HasPrefix(line, []byte("panic: ")) || bytes.HasPrefix(line, []byte("fatal error: "))) {
			w.crash = string(line)
		}
		w.emit(line, w.crash != "")
		w.last = string(line)
	}
	w.buf, w.dropped = w.buf[:0], 0
}

func (w *lineSplitter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 || w.dropped > 0 {
		w.line()
	}
}
