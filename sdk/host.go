package sdk

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// ErrHandshakeTimeout is returned (wrapped) when a plugin binary does not
// complete the go-plugin handshake within the start timeout.
var ErrHandshakeTimeout = errors.New("sdk: plugin did not complete the handshake in time")

// shutdownGrace is how long a plugin being closed or restarted has to exit
// by itself once asked to, before its process group is killed.
const shutdownGrace = 2 * time.Second

// ErrClosed is returned (wrapped, with ErrUnavailable) by calls on a closed
// Plugin.
var ErrClosed = errors.New("sdk: plugin closed")

// State is where a supervised plugin is in its life.
type State int

const (
	// Starting: Open is starting the process.
	Starting State = iota
	// Running: the plugin answers calls.
	Running
	// Restarting: the process exited; a new one is being started (after a
	// backoff). Calls wait for it, within their context.
	Restarting
	// Failed: the plugin exited more often in a row than the restart limit,
	// or its binary no longer matches the manifest. Calls fail at once.
	Failed
	// Closed: Close was called.
	Closed
)

func (s State) String() string {
	switch s {
	case Starting:
		return "starting"
	case Running:
		return "running"
	case Restarting:
		return "restarting"
	case Failed:
		return "failed"
	case Closed:
		return "closed"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Status is a snapshot of a supervised plugin.
type Status struct {
	Name  string
	Path  string
	State State
	// PID of the running process, 0 when none runs.
	PID int
	// Restarts is how many times the plugin was restarted since Open.
	Restarts int
	// Err is why the process last exited or failed to start (nil if it
	// never did).
	Err error
	// Since is when State was entered.
	Since time.Time
	// Protocol is the plugin protocol version the running process speaks
	// with the host (0 when none runs), and Transport how Infer reaches
	// it: "channel" (version 2's direct channel) or "grpc".
	Protocol  int
	Transport string
}

// Option configures Open.
type Option func(*hostConfig)

type hostConfig struct {
	name         string
	manifest     *Manifest
	manifestPath string
	sum          []byte
	unverified   bool
	insecureLock bool
	args, env    []string
	launcher     []string
	logger       *slog.Logger
	stderr       io.Writer
	startTimeout time.Duration
	maxRestarts  int
	minBackoff   time.Duration
	maxBackoff   time.Duration
	stableAfter  time.Duration
	watchEvery   time.Duration
	maxVersion   int
}

// WithName names the plugin in logs, errors and Status (default: the
// binary's base name).
func WithName(name string) Option { return func(c *hostConfig) { c.name = name } }

// WithManifest verifies the binary against m.
func WithManifest(m *Manifest) Option { return func(c *hostConfig) { c.manifest = m } }

// WithManifestFile verifies the binary against the manifest file at path.
// Without a manifest option, Open reads ManifestName beside the binary.
func WithManifestFile(path string) Option { return func(c *hostConfig) { c.manifestPath = path } }

// WithInsecureManifest reads the manifest file even if others could have
// written it: a plugins.lock that is writable by its group or by others, a
// symbolic link, or in a world-writable directory without the sticky bit
// is otherwise refused with an error matching ErrInsecureManifest. For a
// file system that does not keep Unix permissions (a FAT-formatted SD
// card), where every file looks writable by all.
func WithInsecureManifest() Option { return func(c *hostConfig) { c.insecureLock = true } }

// WithSHA256 verifies the binary against sum instead of a manifest.
func WithSHA256(sum []byte) Option { return func(c *hostConfig) { c.sum = sum } }

// WithoutVerification starts the binary without checking its checksum. For
// development only (a plugin being rebuilt over and over); Open logs a
// warning.
func WithoutVerification() Option { return func(c *hostConfig) { c.unverified = true } }

// WithArgs passes arguments to the plugin binary (e.g. the domain of a
// multi-plugin binary).
func WithArgs(args ...string) Option { return func(c *hostConfig) { c.args = args } }

// WithLauncher runs the plugin binary through a launcher: the command is
// launcher[0] with launcher[1:], then the binary's path and its arguments.
// For example WithLauncher("nice", "-n", "10") to run a plugin at a lower
// priority, or WithLauncher("qemu-aarch64") to run an arm64 plugin on
// another machine in emulation (the sdk's tests do that under qemu). The
// launcher must exec the binary in its own process (nice, taskset, chrt
// and qemu-user do) so that the supervisor's pid is the plugin's. The
// binary is pinned and verified as without a launcher, and the launcher
// is given the pinned binary's path (on Linux /proc/self/fd/3, the
// descriptor that was hashed), not the original path.
func WithLauncher(launcher ...string) Option {
	return func(c *hostConfig) { c.launcher = launcher }
}

// WithEnv adds KEY=value entries to the plugin's environment (which is
// otherwise the host's, plus GOMAXPROCS=1 when the host's has no
// GOMAXPROCS; a WithEnv entry overrides both).
func WithEnv(env ...string) Option { return func(c *hostConfig) { c.env = append(c.env, env...) } }

// WithLogger is where the supervisor logs what happens to the plugin
// (started, exited, restarting, failed) and, unless WithStderr is given,
// each line the plugin writes to its stderr, with the attribute
// plugin=<name>. Default: slog.Default().
func WithLogger(l *slog.Logger) Option { return func(c *hostConfig) { c.logger = l } }

// WithStderr writes each line of the plugin's stderr to w as
// "<name>: <line>" instead of logging it.
func WithStderr(w io.Writer) Option { return func(c *hostConfig) { c.stderr = w } }

// WithStartTimeout bounds the go-plugin handshake (default 10 s): a binary
// that has not announced its address by then is killed and Open (or the
// restart) fails with ErrHandshakeTimeout.
func WithStartTimeout(d time.Duration) Option { return func(c *hostConfig) { c.startTimeout = d } }

// WithRestartPolicy sets how a plugin that exits is restarted: after
// minBackoff, doubling per consecutive exit up to maxBackoff, and at most
// maxRestarts consecutive times before it is Failed (default 5, 100 ms,
// 10 s). A plugin that ran for a minute before exiting starts a new run of
// consecutive exits. maxRestarts 0 disables restarts.
func WithRestartPolicy(maxRestarts int, minBackoff, maxBackoff time.Duration) Option {
	return func(c *hostConfig) { c.maxRestarts, c.minBackoff, c.maxBackoff = maxRestarts, minBackoff, maxBackoff }
}

// WithProtocolVersion caps the plugin protocol versions the host offers at
// v (default ProtocolVersion, the newest). WithProtocolVersion(1) calls
// Infer over gRPC even when the plugin offers version 2's direct channel:
// for comparing the two, or for a host whose plugins run where local
// sockets cannot be reached.
func WithProtocolVersion(v int) Option { return func(c *hostConfig) { c.maxVersion = v } }

// Plugin is a supervised plugin process: the host's handle on one plugin
// binary, opened by Open. It implements Model, so callers use Describe,
// Infer and Health directly; each call goes to the running process, waits
// (within its context) while the plugin restarts, and fails with an error
// matching ErrUnavailable when the process dies under it or the plugin has
// Failed or is Closed. A Plugin is safe for concurrent use.
type Plugin struct {
	name, path string
	cfg        hostConfig
	sum        []byte
	log        *slog.Logger
	lines      *lineSplitter // the plugin's stderr as go-plugin forwards it over gRPC

	mu          sync.Mutex
	inst        *instance // nil unless Running
	state       State
	since       time.Time
	restarts    int
	consecutive int
	lastErr     error
	changed     chan struct{} // closed and replaced on every state change
	stop        chan struct{} // closed by Close
	done        chan struct{} // closed when the supervisor goroutine ends
}

var _ Model = (*Plugin)(nil)

// instance is one run of the plugin process.
type instance struct {
	client  *plugin.Client
	proc    *proc
	model   Model
	pid     int
	started time.Time

	protocol  int
	transport string

	deadOnce sync.Once
	dead     chan struct{} // closed once the process has exited
}

func (in *instance) markDead() { in.deadOnce.Do(func() { close(in.dead) }) }

// kill ends the process (if it still runs) and closes the host's end of
// its direct channel. go-plugin first asks the plugin to shut down over
// gRPC and waits for it, without a bound if the plugin does not answer (a
// stopped or wedged process): after shutdownGrace the process group is
// killed, which also ends that wait.
func (in *instance) kill() {
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
		case <-time.After(shutdownGrace):
			_ = in.proc.Kill(context.Background())
		}
	}()
	in.client.Kill()
	close(done)
	if c, ok := in.model.(*channelClient); ok {
		c.close()
	}
}

var (
	openMu   sync.Mutex
	openList = map[*Plugin]struct{}{}
)

// Open verifies the plugin binary at path against its manifest, starts it
// and completes the go-plugin handshake (AutoMTLS, MaxMessageBytes), then
// supervises it: a process that exits or crashes is restarted with backoff
// (WithRestartPolicy), its stderr goes to the host's log with its name, and
// Close (or CloseAll) kills it.
//
// Before anything is executed, the binary's SHA-256 must match the entry
// for it in the manifest (WithManifest, WithManifestFile, or ManifestName
// beside the binary) or WithSHA256: a binary that differs or is not listed
// is refused with an error matching ErrChecksumMismatch or ErrNotInManifest.
// What is executed is exactly what was hashed: the binary is opened once,
// hashed through that descriptor, and that descriptor is executed (on
// Linux, as /proc/self/fd/3; elsewhere the bytes are copied into a private
// 0700 directory while hashed, and the copy is executed), so renaming or
// replacing the file after the check changes nothing. Every restart pins
// and verifies it anew. A manifest file others could have written is
// refused (ErrInsecureManifest; see WithInsecureManifest).
//
// Each plugin runs in its own process group. The whole group is killed
// when the handshake times out or fails, when the plugin is closed, and
// when the plugin's process exits or crashes (before it is restarted), so
// nothing a plugin started (a shell script's children) outlives it. On
// Linux the plugin gets SIGKILL if the host dies, even by SIGKILL (the
// parent-death signal); what the plugin itself started is then not killed
// by the kernel, only by the plugin (a plugin built with Serve exits within
// about a second of its host, and its process group with it only if it
// kills it). What the host reads from the plugin is bounded: the handshake
// line (16 KiB; a plugin that writes more to stdout without a newline
// fails at once), each stderr line (8 KiB, the rest dropped), and how long
// it waits for the plugin's pipes once its process group is gone (1 s,
// for a process that left the group and holds them).
//
// Open fails if the first start fails; it does not retry.
func Open(path string, opts ...Option) (*Plugin, error) {
	cfg := hostConfig{
		startTimeout: 10 * time.Second,
		maxRestarts:  5,
		minBackoff:   100 * time.Millisecond,
		maxBackoff:   10 * time.Second,
		stableAfter:  time.Minute,
		watchEvery:   200 * time.Millisecond,
		maxVersion:   ProtocolVersion,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.name == "" {
		cfg.name = filepath.Base(path)
	}
	if cfg.maxVersion < 1 {
		return nil, fmt.Errorf("sdk: plugin %s: WithProtocolVersion(%d): protocol versions start at 1", cfg.name, cfg.maxVersion)
	}
	if cfg.logger == nil {
		cfg.logger = slog.Default()
	}
	p := &Plugin{
		name:    cfg.name,
		path:    path,
		cfg:     cfg,
		log:     cfg.logger.With("plugin", cfg.name),
		state:   Starting,
		since:   time.Now(),
		changed: make(chan struct{}),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	p.lines = newLineSplitter(maxLogLine, p.logLine)

	if !cfg.unverified {
		sum, err := p.expectedSum()
		if err != nil {
			return nil, err
		}
		p.sum = sum
	} else {
		p.log.Warn("sdk: starting plugin WITHOUT checksum verification", "path", path)
	}

	inst, err := p.start()
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.inst = inst
	p.setState(Running, nil)
	p.mu.Unlock()
	p.log.Info("sdk: plugin started", "pid", inst.pid, "path", path)

	openMu.Lock()
	openList[p] = struct{}{}
	openMu.Unlock()
	go p.supervise(inst)
	return p, nil
}

// expectedSum finds the binary's checksum in the configured manifest.
func (p *Plugin) expectedSum() ([]byte, error) {
	c := &p.cfg
	if c.sum != nil {
		if len(c.sum) != sha256.Size {
			return nil, fmt.Errorf("sdk: plugin %s: WithSHA256 wants %d bytes, got %d", p.name, sha256.Size, len(c.sum))
		}
		return c.sum, nil
	}
	m := c.manifest
	if m == nil {
		path := c.manifestPath
		if path == "" {
			path = filepath.Join(filepath.Dir(p.path), ManifestName)
		}
		var err error
		read := ReadManifest
		if c.insecureLock {
			read = ReadManifestInsecure
		}
		if m, err = read(path); err != nil {
			if errors.Is(err, ErrInsecureManifest) {
				return nil, fmt.Errorf("sdk: plugin %s: %w", p.name, err)
			}
			return nil, fmt.Errorf("sdk: plugin %s: no manifest to verify %s against (write one with `sha256sum %s > %s`): %w: %w",
				p.name, p.path, filepath.Base(p.path), path, ErrNoManifest, err)
		}
	}
	sum, ok := m.Lookup(p.path)
	if !ok {
		return nil, fmt.Errorf("sdk: plugin %s: %s is not listed in the manifest; refusing to start it: %w", p.name, p.path, ErrNotInManifest)
	}
	return sum, nil
}

// pin opens the binary and checks what it holds against p.sum; the result
// is what start executes. Without verification it is nil.
func (p *Plugin) pin() (*pinnedBinary, error) {
	if p.cfg.unverified {
		return nil, nil
	}
	b, err := pinBinary(p.path)
	if err != nil {
		return nil, fmt.Errorf("sdk: plugin %s: %w", p.name, err)
	}
	if !bytes.Equal(b.sum, p.sum) {
		b.exited()
		return nil, fmt.Errorf("sdk: plugin %s: %s has sha256 %x but the manifest says %x; refusing to start it: %w",
			p.name, p.path, b.sum, p.sum, ErrChecksumMismatch)
	}
	return b, nil
}

// start pins and verifies the binary and starts one instance of it.
func (p *Plugin) start() (*instance, error) {
	pin, err := p.pin()
	if err != nil {
		return nil, err
	}
	target := p.path
	cmd := &exec.Cmd{Path: target, Args: append([]string{p.path}, p.cfg.args...)}
	if pin != nil {
		target = pin.exec
		cmd.Path, cmd.ExtraFiles = target, pin.files
	}
	if l := p.cfg.launcher; len(l) > 0 {
		cmd = exec.Command(l[0], append(append(l[1:len(l):len(l)], target), p.cfg.args...)...)
		if pin != nil {
			cmd.ExtraFiles = pin.files
		}
	}
	cmd.Env = os.Environ()
	if os.Getenv("GOMAXPROCS") == "" {
		// One P per plugin unless the host's environment or WithEnv says
		// otherwise: on a 2-vCPU machine it cut the small-request round
		// trip over gRPC from ~215 to ~150 µs p50 and over the direct
		// channel from ~75 to ~58 µs (fewer cross-thread wake-ups), without
		// lowering 8-caller throughput, and it keeps each plugin's memory
		// down. A plugin whose model wants several cores gets
		// WithEnv("GOMAXPROCS=4").
		cmd.Env = append(cmd.Env, "GOMAXPROCS=1")
	}
	cmd.Env = append(cmd.Env, p.cfg.env...)
	pr := newProc(cmd, p.path, pin, len(p.cfg.launcher) > 0, newLineSplitter(maxLogLine, p.logLine))
	defer startingFor(p, pr)()
	if p.closing() {
		pin.exited()
		return nil, fmt.Errorf("sdk: plugin %s: %w: %w", p.name, ErrUnavailable, ErrClosed)
	}
	sets := PluginSets(nil)
	for v := range sets {
		if v > p.cfg.maxVersion {
			delete(sets, v)
		}
	}
	cc := &plugin.ClientConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: sets,
		// The process is started and watched by pr (process group,
		// pinned binary, bounded pipes); the checksum was checked on the
		// pinned binary, so go-plugin's SecureConfig, which would hash
		// the path again, is not used.
		RunnerFunc:       runnerFunc(pr),
		SkipHostEnv:      true, // cmd.Env already has it, with WithEnv taking precedence
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		GRPCDialOptions:  dialOptions(),
		Managed:          true, // plugin.CleanupClients kills it too
		StartTimeout:     p.cfg.startTimeout,
		SyncStdout:       p.lines,
		SyncStderr:       p.lines,
		// go-plugin's own host-side chatter stays quiet: the supervisor
		// logs what matters, and the plugin's lines come through pr.
		Logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Off, Output: io.Discard}),
	}
	client := plugin.NewClient(cc)
	began := time.Now()
	inst := &instance{client: client, proc: pr, started: began, dead: make(chan struct{})}
	// The handshake, the gRPC connection and the dispense, all within the
	// start timeout: go-plugin bounds only the handshake line, and a
	// plugin that announces an address and never answers on it would hold
	// the connection for gRPC's 20 s connect timeout, or the shutdown for
	// ever.
	type dispensed struct {
		raw any
		err error
	}
	ch := make(chan dispensed, 1)
	go func() {
		rpc, err := client.Client()
		if err != nil {
			ch <- dispensed{nil, err}
			return
		}
		raw, err := rpc.Dispense(PluginName)
		if err != nil {
			err = fmt.Errorf("dispense %q: %w", PluginName, err)
		}
		ch <- dispensed{raw, err}
	}()
	var r dispensed
	timedOut := false
	timer := time.NewTimer(p.cfg.startTimeout)
	select {
	case r = <-ch:
		timer.Stop()
	case <-timer.C:
		timedOut = true
		_ = pr.Kill(context.Background()) // its connection breaks, and go-plugin returns
		select {
		case r = <-ch:
		case <-time.After(shutdownGrace):
			// Something outside the group keeps the connection: clean
			// up when go-plugin gives up, and report the timeout now.
			go func() { <-ch; inst.kill(); pin.exited() }()
			return nil, p.handshakeTimeout()
		}
	}
	if r.err != nil || timedOut {
		inst.kill()  // kills its process group; returns within pipeGrace of that
		pin.exited() // if go-plugin failed before starting the process
		if timedOut {
			return nil, p.handshakeTimeout()
		}
		return nil, p.startFailed(pr, r.err)
	}
	m, ok := r.raw.(Model)
	if !ok {
		inst.kill()
		return nil, fmt.Errorf("sdk: plugin %s: dispensed %T, not a Model", p.name, r.raw)
	}
	inst.model = m
	inst.pid, _ = strconv.Atoi(pr.ID())
	inst.protocol, inst.transport = client.NegotiatedVersion(), "grpc"
	if _, ok := m.(*channelClient); ok {
		inst.transport = "channel"
	}
	go p.watch(inst)
	return inst, nil
}

func (p *Plugin) handshakeTimeout() error {
	return fmt.Errorf("sdk: plugin %s: %s did not complete the go-plugin handshake within %v (is it a plugin built with sdk.Serve?): %w",
		p.name, p.path, p.cfg.startTimeout, ErrHandshakeTimeout)
}

// startFailed explains why go-plugin could not start the plugin; pr has
// been killed and reaped.
func (p *Plugin) startFailed(pr *proc, err error) error {
	var execErr *exec.Error
	var perr *os.PathError
	switch {
	case errors.As(err, &execErr), errors.As(err, &perr), errors.Is(err, syscall.ENOEXEC):
		// The binary (or launcher) could not be executed; pr.Start said why.
		return fmt.Errorf("sdk: plugin %s: starting %s: %w", p.name, p.path, err)
	case pr.stdoutError() != nil:
		return fmt.Errorf("sdk: plugin %s: %w", p.name, pr.stdoutError())
	case strings.Contains(err.Error(), "timeout while waiting for plugin to start"):
		return p.handshakeTimeout()
	}
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "Unrecognized remote plugin message: "); ok {
		line, _, _ := strings.Cut(rest, "\n")
		if line = strings.TrimSpace(line); line != "" {
			if len(line) > 200 {
				line = line[:200] + "…"
			}
			return fmt.Errorf("sdk: plugin %s: %s wrote %q to stdout instead of go-plugin's handshake (is it a plugin built with sdk.Serve?)", p.name, p.path, line)
		}
		msg = "" // nothing on stdout: it ended (or closed stdout) first
	} else if msg == "plugin exited before we could connect" {
		msg = ""
	}
	if msg != "" {
		// go-plugin refused what the plugin said (protocol versions, its
		// certificate) or could not connect; the process was killed then.
		return fmt.Errorf("sdk: plugin %s: starting %s: %w", p.name, p.path, err)
	}
	why := fmt.Sprintf("%s before the go-plugin handshake", pr.exitText())
	if sum := pr.log.summary(); sum != "" {
		why += sum
	} else {
		why += " (nothing on stderr)"
	}
	return fmt.Errorf("sdk: plugin %s: %s %s", p.name, p.path, why)
}

// watch notices when inst's process exits (go-plugin reaps it).
func (p *Plugin) watch(inst *instance) {
	t := time.NewTicker(p.cfg.watchEvery)
	defer t.Stop()
	for {
		select {
		case <-inst.dead:
			return
		case <-t.C:
			if inst.proc.exited() {
				inst.markDead()
				return
			}
		}
	}
}

// supervise restarts the plugin each time its process dies, until Close or
// the restart limit.
func (p *Plugin) supervise(inst *instance) {
	defer close(p.done)
	for {
		select {
		case <-p.stop:
			return
		case <-inst.dead:
		}
		inst.kill() // reap and clean up what is left
		p.mu.Lock()
		if p.state == Closed {
			p.mu.Unlock()
			return
		}
		reason := fmt.Errorf("sdk: plugin %s (pid %d) %s after %v%s", p.name, inst.pid, inst.proc.exitText(),
			time.Since(inst.started).Round(time.Millisecond), lastLine(inst.proc.log, p.lines))
		if time.Since(inst.started) >= p.cfg.stableAfter {
			p.consecutive = 0
		}
		p.inst = nil
		p.setState(Restarting, reason)
		p.mu.Unlock()
		p.log.Warn("sdk: plugin exited", "pid", inst.pid, "ran", time.Since(inst.started).Round(time.Millisecond))

		for {
			p.mu.Lock()
			p.consecutive++
			n := p.consecutive
			p.mu.Unlock()
			if n > p.cfg.maxRestarts {
				p.fail(fmt.Errorf("%w; it exited %d times in a row, more than the limit of %d restarts", p.lastError(), n, p.cfg.maxRestarts))
				return
			}
			backoff := p.cfg.minBackoff << (n - 1)
			if backoff > p.cfg.maxBackoff || backoff <= 0 {
				backoff = p.cfg.maxBackoff
			}
			p.log.Info("sdk: restarting plugin", "in", backoff, "attempt", n, "limit", p.cfg.maxRestarts)
			select {
			case <-p.stop:
				return
			case <-time.After(backoff):
			}
			next, err := p.start()
			if err != nil {
				if errors.Is(err, ErrChecksumMismatch) {
					p.fail(err)
					return
				}
				p.log.Warn("sdk: plugin restart failed", "err", err)
				p.mu.Lock()
				p.lastErr = err
				p.mu.Unlock()
				continue
			}
			p.mu.Lock()
			if p.state == Closed {
				p.mu.Unlock()
				next.kill()
				return
			}
			p.inst = next
			p.restarts++
			p.setState(Running, p.lastErr)
			p.mu.Unlock()
			p.log.Info("sdk: plugin restarted", "pid", next.pid, "restarts", p.restarts)
			inst = next
			break
		}
	}
}

// closing reports whether Close was called.
func (p *Plugin) closing() bool {
	select {
	case <-p.stop:
		return true
	default:
		return false
	}
}

func (p *Plugin) lastError() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastErr
}

func (p *Plugin) fail(err error) {
	p.mu.Lock()
	p.setState(Failed, err)
	p.mu.Unlock()
	p.log.Error("sdk: plugin failed; not restarting it", "err", err)
}

// setState records a state change and wakes waiting calls; p.mu is held.
func (p *Plugin) setState(s State, err error) {
	p.state, p.since = s, time.Now()
	if err != nil {
		p.lastErr = err
	}
	close(p.changed)
	p.changed = make(chan struct{})
}

// current returns the running instance, waiting within ctx while the
// plugin starts or restarts.
func (p *Plugin) current(ctx context.Context) (*instance, error) {
	for {
		p.mu.Lock()
		state, inst, changed, lastErr := p.state, p.inst, p.changed, p.lastErr
		p.mu.Unlock()
		switch state {
		case Running:
			select {
			case <-inst.dead: // died; the supervisor is about to restart it
			default:
				return inst, nil
			}
		case Failed:
			return nil, fmt.Errorf("sdk: plugin %s has failed: %w: %w", p.name, ErrUnavailable, lastErr)
		case Closed:
			return nil, fmt.Errorf("sdk: plugin %s: %w: %w", p.name, ErrUnavailable, ErrClosed)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, fmt.Errorf("sdk: plugin %s is %v (%v): %w", p.name, state, lastErr, ctx.Err())
		}
	}
}

// check turns a failed call's transport error into a clear one: when the
// process died under the call, it says so (the supervisor restarts it).
func (p *Plugin) check(ctx context.Context, inst *instance, method string, err error) error {
	if err == nil || !errors.Is(err, ErrUnavailable) || ctx.Err() != nil {
		return err
	}
	// The connection broke. Give go-plugin a moment to reap the process.
	deadline := time.Now().Add(time.Second)
	for !inst.proc.exited() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if inst.proc.exited() {
		inst.markDead()
		return fmt.Errorf("sdk: plugin %s (pid %d) exited during %s; it is being restarted: %w", p.name, inst.pid, method, err)
	}
	return fmt.Errorf("sdk: plugin %s (pid %d): lost the connection during %s: %w", p.name, inst.pid, method, err)
}

// Describe implements Model.
func (p *Plugin) Describe(ctx context.Context) (*Description, error) {
	inst, err := p.current(ctx)
	if err != nil {
		return nil, err
	}
	d, err := inst.model.Describe(ctx)
	return d, p.check(ctx, inst, "Describe", err)
}

// Infer implements Model.
func (p *Plugin) Infer(ctx context.Context, req *InferRequest) (*InferResponse, error) {
	inst, err := p.current(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := inst.model.Infer(ctx, req)
	return resp, p.check(ctx, inst, "Infer", err)
}

// Health implements Model.
func (p *Plugin) Health(ctx context.Context) error {
	inst, err := p.current(ctx)
	if err != nil {
		return err
	}
	return p.check(ctx, inst, "Health", inst.model.Health(ctx))
}

// Name returns the plugin's name (WithName, or the binary's base name).
func (p *Plugin) Name() string { return p.name }

// Status returns a snapshot of the plugin's state.
func (p *Plugin) Status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := Status{Name: p.name, Path: p.path, State: p.state, Restarts: p.restarts, Err: p.lastErr, Since: p.since}
	if p.inst != nil {
		s.PID, s.Protocol, s.Transport = p.inst.pid, p.inst.protocol, p.inst.transport
	}
	return s
}

// Close kills the plugin process and stops supervising it; calls then fail
// with ErrClosed. It is safe to call more than once.
func (p *Plugin) Close() error {
	p.mu.Lock()
	if p.state == Closed {
		p.mu.Unlock()
		return nil
	}
	inst := p.inst
	p.inst = nil
	p.setState(Closed, nil)
	close(p.stop)
	p.mu.Unlock()
	killStarting(p) // a restart in progress
	if inst != nil {
		inst.kill()
	}
	<-p.done
	openMu.Lock()
	delete(openList, p)
	openMu.Unlock()
	p.lines.flush()
	p.log.Info("sdk: plugin closed")
	return nil
}

// CloseAll closes every Plugin this process opened and kills any other
// go-plugin client process (plugin.CleanupClients). A host calls it on its
// way out (defer sdk.CloseAll() in main, and on SIGINT/SIGTERM) so that no
// plugin outlives it, each killed with its process group. A plugin whose
// host was killed outright gets SIGKILL from the kernel on Linux (the
// parent-death signal) and otherwise, if built with Serve, exits by itself
// within about a second; what such a plugin started is not killed then.
func CloseAll() {
	killStarting(nil) // plugins still being opened
	openMu.Lock()
	ps := make([]*Plugin, 0, len(openList))
	for p := range openList {
		ps = append(ps, p)
	}
	openMu.Unlock()
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Go(func() { _ = p.Close() })
	}
	wg.Wait()
	plugin.CleanupClients()
}

// logLine sends one line of the plugin's stderr to the host's log; the
// lines of a crash report (a panic and its goroutine traces) as errors.
func (p *Plugin) logLine(line []byte, crash bool) {
	if p.cfg.stderr != nil {
		fmt.Fprintf(p.cfg.stderr, "%s: %s\n", p.name, line)
		return
	}
	level, msg, attrs := slog.LevelInfo, string(line), []any(nil)
	if crash {
		level = slog.LevelError
	}
	// go-plugin's own messages from the plugin side are hclog JSON.
	if len(line) > 0 && line[0] == '{' {
		var e map[string]any
		if json.Unmarshal(line, &e) == nil {
			if m, ok := e["@message"].(string); ok {
				msg = m
				switch e["@level"] {
				case "error":
					level = slog.LevelError
				case "warn":
					level = slog.LevelWarn
				case "debug", "trace":
					level = slog.LevelDebug
				}
				for k, v := range e {
					if !strings.HasPrefix(k, "@") {
						attrs = append(attrs, k, v)
					}
				}
			}
		}
	}
	p.log.Log(context.Background(), level, msg, attrs...)
}

// lastLine is the summary (a crash, else the last stderr line) of the
// first of ws that has one, or "".
func lastLine(ws ...*lineSplitter) string {
	for _, w := range ws {
		if l := w.summary(); l != "" {
			return l
		}
	}
	return ""
}
