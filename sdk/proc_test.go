package sdk_test

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/internal/fake"
	"github.com/edgerun/edgerun/sdk/sdktest"
)

// lockedScript writes a shell script plugin and a plugins.lock pinning it
// into a new directory, and returns the script's path.
func lockedScript(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "plug")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	lockFile(t, dir, path)
	return path
}

// lockFile writes dir/plugins.lock listing the binaries.
func lockFile(t *testing.T, dir string, bins ...string) {
	t.Helper()
	m := &sdk.Manifest{}
	for _, b := range bins {
		sum, err := sdk.HashFile(b)
		if err != nil {
			t.Fatal(err)
		}
		m.Add(filepath.Base(b), sum)
	}
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, sdk.ManifestName), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// openWithin runs sdk.Open, failing the test if it has not returned within
// a minute (a safety net against a hang, not a measure of speed).
func openWithin(t *testing.T, path string, opts ...sdk.Option) (*sdk.Plugin, error) {
	t.Helper()
	type result struct {
		p   *sdk.Plugin
		err error
	}
	done := make(chan result, 1)
	go func() {
		p, err := sdk.Open(path, append([]sdk.Option{sdk.WithLogger(discard)}, opts...)...)
		done <- result{p, err}
	}()
	select {
	case r := <-done:
		if r.p != nil {
			t.Cleanup(func() { _ = r.p.Close() })
		}
		return r.p, r.err
	case <-time.After(time.Minute):
		t.Fatalf("sdk.Open(%s) has not returned after a minute", path)
		return nil, nil
	}
}

// readPids reads the pids a plugin noted in file, one a line.
func readPids(t *testing.T, file string) []int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("%s: %q", file, b)
		}
		pids = append(pids, pid)
	}
	return pids
}

// waitGone waits (up to 10 s) until pid is not a live process, and kills it
// if it never goes so as not to leave it behind.
func waitGone(t *testing.T, pid int, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("%s (pid %d) is still alive after 10 s", what, pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A script whose child holds its stdout and stderr: on the handshake
// timeout the whole process group is killed and Open returns, leaving no
// orphan (it used to wait for the grandchild, 1000 s, and orphan it).
func TestHandshakeTimeoutKillsTheProcessGroup(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "pid")
	plug := lockedScript(t, "sleep 1000 &\necho $! > \"$PIDFILE\"\nwait\n")
	_, err := openWithin(t, plug, sdk.WithStartTimeout(time.Second), sdk.WithEnv("PIDFILE="+pidfile))
	if !errors.Is(err, sdk.ErrHandshakeTimeout) {
		t.Fatalf("err = %v, want ErrHandshakeTimeout", err)
	}
	waitGone(t, readPids(t, pidfile)[0], "the script's sleep")
}

// A grandchild that left the plugin's process group holds its pipes: the
// host cannot kill it, but it stops reading them and returns.
func TestHandshakeTimeoutDoesNotWaitForPipesHeldOutsideTheGroup(t *testing.T) {
	if _, err := os.Stat("/usr/bin/setsid"); err != nil {
		t.Skip("no setsid")
	}
	pidfile := filepath.Join(t.TempDir(), "pid")
	plug := lockedScript(t, "/usr/bin/setsid sleep 1000 &\necho $! > \"$PIDFILE\"\nwait\n")
	t.Cleanup(func() {
		if b, err := os.ReadFile(pidfile); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	_, err := openWithin(t, plug, sdk.WithStartTimeout(time.Second), sdk.WithEnv("PIDFILE="+pidfile))
	if !errors.Is(err, sdk.ErrHandshakeTimeout) {
		t.Fatalf("err = %v, want ErrHandshakeTimeout", err)
	}
}

// What a plugin starts dies with it: when the plugin crashes (before the
// restart) and when it is closed.
func TestCrashAndCloseKillTheProcessGroup(t *testing.T) {
	if testing.Short() {
		t.Skip("starts plugin processes")
	}
	children := filepath.Join(t.TempDir(), "children")
	p := openHelper(t, "spawn", sdk.WithEnv("EDGERUN_SDK_TEST_MARKER="+children), sdk.WithRestartPolicy(1, 10*time.Millisecond, 10*time.Millisecond))
	first := readPids(t, children)
	if len(first) != 1 || !alive(first[0]) {
		t.Fatalf("children %v", first)
	}
	pid := p.Status().PID
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitGone(t, first[0], "the crashed plugin's child")
	waitFor(t, func() bool { st := p.Status(); return st.State == sdk.Running && st.PID != pid })
	if st := p.Status(); !strings.Contains(st.Err.Error(), "was killed by signal 9") {
		t.Errorf("after the crash: %v", st.Err)
	}
	second := readPids(t, children)
	if len(second) != 2 || !alive(second[1]) {
		t.Fatalf("children %v", second)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	waitGone(t, second[1], "the closed plugin's child")
}

// 200 MB on stdout without a newline: the plugin fails at once when its
// first line passes 16 KiB, however long the start timeout (it used to
// hang past it), and its process group goes with it.
func TestHandshakeLineIsBounded(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "pid")
	plug := lockedScript(t, "echo $$ > \"$PIDFILE\"\nhead -c 200000000 /dev/zero\nsleep 1000\n")
	_, err := openWithin(t, plug, sdk.WithStartTimeout(10*time.Minute), sdk.WithEnv("PIDFILE="+pidfile))
	if err == nil || !strings.Contains(err.Error(), "wrote more than 16384 bytes to stdout without a newline") {
		t.Fatalf("err = %v", err)
	}
	waitGone(t, readPids(t, pidfile)[0], "the script")
}

// 200 MB on stderr without a newline: the start timeout holds, and the log
// gets one line of at most 8 KiB saying how much was dropped.
func TestStderrLinesAreBounded(t *testing.T) {
	plug := lockedScript(t, "head -c 200000000 /dev/zero | tr '\\0' x >&2\nsleep 1000\n")
	var mu sync.Mutex
	var buf bytes.Buffer
	_, err := openWithin(t, plug, sdk.WithStartTimeout(3*time.Second), sdk.WithName("noisy"), sdk.WithStderr(lockedWriter{&mu, &buf}))
	if !errors.Is(err, sdk.ErrHandshakeTimeout) {
		t.Fatalf("err = %v, want ErrHandshakeTimeout", err)
	}
	mu.Lock()
	defer mu.Unlock()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 1 || len(lines[0]) > 8<<10+100 || !strings.HasPrefix(lines[0], "noisy: xxxx") || !strings.Contains(lines[0], "more bytes of this line dropped") {
		t.Errorf("%d lines; the first (%d bytes) ends %q", len(lines), len(lines[0]), lines[0][max(0, len(lines[0])-80):])
	}
}

// A plugin that exits with status 3 before the handshake is reported as
// such, with its last stderr line, not as built for another architecture.
func TestExitStatusBeforeTheHandshake(t *testing.T) {
	bin, manifest := self(t)
	_, err := openWithin(t, bin, append(sdktest.Emulated(), sdk.WithManifestFile(manifest), sdk.WithEnv(helperEnv+"=exit3"))...)
	if err == nil || !strings.Contains(err.Error(), "exited with status 3 before the go-plugin handshake (nothing on stderr)") || strings.Contains(err.Error(), "architecture") {
		t.Errorf("Go plugin: err = %v", err)
	}
	plug := lockedScript(t, "echo starting >&2\necho 'cannot open /nowhere/model.erm' >&2\nexit 3\n")
	_, err = openWithin(t, plug)
	if err == nil || !strings.Contains(err.Error(), "exited with status 3 before the go-plugin handshake; its last stderr line: cannot open /nowhere/model.erm") {
		t.Errorf("script: err = %v", err)
	}
}

// A binary for another machine is diagnosed from its ELF header when the
// kernel refuses to execute it.
func TestBinaryForAnotherArchitecture(t *testing.T) {
	if os.Getenv("QEMU_USER") != "" || runtime.GOOS != "linux" {
		t.Skip("needs a native Linux host")
	}
	other := elf.EM_AARCH64
	if runtime.GOARCH == "arm64" {
		other = elf.EM_X86_64
	}
	hdr := make([]byte, 64)
	copy(hdr, elf.ELFMAG)
	hdr[elf.EI_CLASS], hdr[elf.EI_DATA], hdr[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	hdr[16], hdr[18], hdr[19], hdr[20] = byte(elf.ET_EXEC), byte(other), byte(other>>8), 1
	dir := t.TempDir()
	bin := filepath.Join(dir, "plug")
	if err := os.WriteFile(bin, hdr, 0o755); err != nil {
		t.Fatal(err)
	}
	lockFile(t, dir, bin)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	_, err := openWithin(t, bin)
	if !errors.Is(err, syscall.ENOEXEC) || !strings.Contains(err.Error(), "is built for "+other.String()+", and this host is linux/"+runtime.GOARCH) {
		t.Errorf("err = %v", err)
	}
	// go-plugin made a socket directory for the start that failed; the
	// runner removes it (go-plugin only does in Kill, after a start).
	if m, _ := filepath.Glob(filepath.Join(tmp, "plugin-dir*")); len(m) != 0 {
		t.Errorf("a failed exec left %v", m)
	}
}

// The binary executed is the one hashed: a loop swaps the plugin's file
// between a pinned script and an unpinned one (renames, as anyone who can
// write the directory can) while the host starts it again and again.
// Every start either refuses the unpinned script or runs the pinned one.
func TestPinnedBinaryCannotBeSwapped(t *testing.T) {
	for _, launcher := range [][]string{nil, {"env"}} {
		t.Run(strings.Join(append([]string{"launcher"}, launcher...), "_"), func(t *testing.T) {
			testSwap(t, launcher)
		})
	}
}

func testSwap(t *testing.T, launcher []string) {
	dir := t.TempDir()
	ran := filepath.Join(t.TempDir(), "ran")
	script := func(name, marker string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte("#!/bin/sh\necho "+marker+" >> \"$RAN\"\nexit 1\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return path
	}
	pinned, unpinned := script("pinned", "pinned"), script("unpinned", "unpinned")
	plug := filepath.Join(dir, "plug")
	sum, err := sdk.HashFile(pinned)
	if err != nil {
		t.Fatal(err)
	}
	m := &sdk.Manifest{Dir: dir}
	m.Add("plug", sum)
	swap := func(src string) {
		tmp := filepath.Join(dir, ".tmp")
		_ = os.Remove(tmp) // left by a rename between two links to one file, which does nothing
		if err := os.Link(src, tmp); err != nil {
			panic(err)
		}
		if err := os.Rename(tmp, plug); err != nil {
			panic(err)
		}
	}
	swap(unpinned)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				// Each for a moment, about as long as a start takes
				// from the check to the exec without pinning.
				swap(pinned)
				time.Sleep(500 * time.Microsecond)
				swap(unpinned)
				time.Sleep(500 * time.Microsecond)
			}
		}
	})
	stopSwapping := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopSwapping()
	// Until 100 starts passed the check (a refused start is quick, so
	// most attempts land while the unpinned script is in place).
	starts, refused := 0, 0
	for ; starts-refused < 100 && starts < 5000; starts++ {
		_, err := sdk.Open(plug, sdk.WithManifest(m), sdk.WithEnv("RAN="+ran), sdk.WithLauncher(launcher...),
			sdk.WithRestartPolicy(0, 0, 0), sdk.WithLogger(discard))
		switch {
		case errors.Is(err, sdk.ErrChecksumMismatch):
			refused++
		case err == nil || !strings.Contains(err.Error(), "exited with status 1"):
			t.Fatalf("start: %v", err)
		}
	}
	stopSwapping()
	b, _ := os.ReadFile(ran)
	runs := strings.Fields(string(b))
	n := map[string]int{}
	for _, r := range runs {
		n[r]++
	}
	t.Logf("%d starts: %d refused (unpinned bytes at the check), %d ran the pinned script, %d ran the unpinned one", starts, refused, n["pinned"], n["unpinned"])
	if n["unpinned"] != 0 || n["pinned"] != starts-refused || len(runs) != starts-refused {
		t.Errorf("%d starts, %d refused: runs %v", starts, refused, n)
	}
}

// A plugin can run through a launcher (here nice); it is given the pinned
// binary.
func TestLauncherRunsThePinnedBinary(t *testing.T) {
	if testing.Short() || os.Getenv("QEMU_USER") != "" {
		t.Skip("starts plugin processes; under qemu every test uses a launcher")
	}
	p := openHelper(t, "plugin", sdk.WithLauncher("nice", "-n", "1"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := p.Infer(ctx, fake.Request("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if pid := p.Status().PID; resp.Parameters["pid"] != strconv.Itoa(pid) {
		t.Errorf("answered by pid %s, the supervisor's pid is %d", resp.Parameters["pid"], pid)
	}
	exe, err := os.Readlink("/proc/" + resp.Parameters["pid"] + "/exe")
	if err != nil {
		t.Fatal(err)
	}
	self, _ := os.Executable()
	if exe != self {
		t.Errorf("the plugin runs %s, want %s", exe, self)
	}
}

// A plugins.lock others could have written is refused, unless the host
// says otherwise.
func TestInsecureManifest(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Unix permissions")
	}
	plug := lockedScript(t, "echo 'not a plugin' >&2\nexit 1\n")
	dir := filepath.Dir(plug)
	lock := filepath.Join(dir, sdk.ManifestName)
	data, err := os.ReadFile(lock)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sdk.ReadManifest(lock); err != nil {
		t.Fatalf("0644 in a 0700 directory: %v", err)
	}

	// Writable by its group.
	if err := os.Chmod(lock, 0o664); err != nil {
		t.Fatal(err)
	}
	_, err = sdk.ReadManifest(lock)
	if !errors.Is(err, sdk.ErrInsecureManifest) || !strings.Contains(err.Error(), "is writable by its group or by others (mode -rw-rw-r--)") {
		t.Errorf("0664: %v", err)
	}
	_, err = openWithin(t, plug)
	if !errors.Is(err, sdk.ErrInsecureManifest) {
		t.Errorf("Open with a 0664 manifest: %v", err)
	}
	_, err = openWithin(t, plug, sdk.WithInsecureManifest())
	if err == nil || !strings.Contains(err.Error(), "its last stderr line: not a plugin") {
		t.Errorf("Open with WithInsecureManifest: %v (want the script to run)", err)
	}
	if _, err := sdk.ReadManifestInsecure(lock); err != nil {
		t.Errorf("ReadManifestInsecure: %v", err)
	}
	if err := os.Chmod(lock, 0o644); err != nil {
		t.Fatal(err)
	}

	// A symbolic link, even to a safe file.
	link := filepath.Join(t.TempDir(), sdk.ManifestName)
	if err := os.Symlink(lock, link); err != nil {
		t.Fatal(err)
	}
	if _, err := sdk.ReadManifest(link); !errors.Is(err, sdk.ErrInsecureManifest) || !strings.Contains(err.Error(), "is a symbolic link") {
		t.Errorf("symlink: %v", err)
	}

	// In a world-writable directory: refused without the sticky bit,
	// accepted with it (as in /tmp).
	shared := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(shared, 0o755); err != nil {
		t.Fatal(err)
	}
	inShared := filepath.Join(shared, sdk.ManifestName)
	if err := os.WriteFile(inShared, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := sdk.ReadManifest(inShared); !errors.Is(err, sdk.ErrInsecureManifest) || !strings.Contains(err.Error(), "which anyone can write to and which lacks the sticky bit") {
		t.Errorf("world-writable directory: %v", err)
	}
	if err := os.Chmod(shared, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	if _, err := sdk.ReadManifest(inShared); err != nil {
		t.Errorf("sticky world-writable directory: %v", err)
	}
}

// A plugin that no longer answers (stopped) is still closed: the graceful
// shutdown go-plugin tries first is bounded, then the group is killed.
func TestCloseAStoppedPlugin(t *testing.T) {
	if testing.Short() {
		t.Skip("starts plugin processes")
	}
	children := filepath.Join(t.TempDir(), "children")
	p := openHelper(t, "spawn", sdk.WithEnv("EDGERUN_SDK_TEST_MARKER="+children))
	pid := p.Status().PID
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- p.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		_ = syscall.Kill(pid, syscall.SIGKILL)
		t.Fatal("Close of a stopped plugin has not returned after a minute")
	}
	waitGone(t, pid, "the stopped plugin")
	waitGone(t, readPids(t, children)[0], "the stopped plugin's child")
}

// A host killed outright (SIGKILL, no cleanup) takes its plugin with it on
// Linux through the parent-death signal, even a plugin that does not watch
// its parent (a script). What the plugin started is not killed by the
// kernel (documented); the test kills it itself.
func TestPluginDiesWithItsKilledHost(t *testing.T) {
	if testing.Short() || runtime.GOOS != "linux" {
		t.Skip("starts processes; the parent-death signal is Linux's")
	}
	pidfile := filepath.Join(t.TempDir(), "pids")
	plug := lockedScript(t, "echo $$ > \"$PIDFILE.tmp\"\nsleep 1000 &\necho $! >> \"$PIDFILE.tmp\"\nmv \"$PIDFILE.tmp\" \"$PIDFILE\"\nwait\n")
	host := command()
	host.Env = append(os.Environ(), helperEnv+"=host-script", "PLUGIN="+plug, "PIDFILE="+pidfile, "TMPDIR="+t.TempDir()) // the killed host leaves go-plugin's socket directory
	if err := host.Start(); err != nil {
		t.Fatal(err)
	}
	defer host.Process.Kill()
	waitFor(t, func() bool { _, err := os.Stat(pidfile); return err == nil })
	pids := readPids(t, pidfile)
	t.Cleanup(func() { _ = syscall.Kill(pids[1], syscall.SIGKILL) })
	if err := host.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = host.Wait()
	waitGone(t, pids[0], "the plugin of a killed host")
}

// A plugin that announces an address and never answers there: the start
// timeout covers the connection and the dispense too (it took gRPC's
// 20 s connect timeout, and Close of such a plugin waited for ever).
func TestStartTimeoutCoversTheConnection(t *testing.T) {
	bin, manifest := self(t)
	_, err := openWithin(t, bin, append(sdktest.Emulated(), sdk.WithManifestFile(manifest), sdk.WithStartTimeout(time.Second),
		sdk.WithEnv(helperEnv+"=mute", "EDGERUN_SDK_TEST_MARKER="+t.TempDir()))...)
	if !errors.Is(err, sdk.ErrHandshakeTimeout) {
		t.Fatalf("err = %v, want ErrHandshakeTimeout", err)
	}
}

// CloseAll while a plugin is still being opened (go-plugin's own Kill
// waits for the handshake to end) kills it and its group at once.
func TestCloseAllDuringOpen(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "pids")
	plug := lockedScript(t, "echo $$ > \"$PIDFILE.tmp\"\nsleep 1000 &\necho $! >> \"$PIDFILE.tmp\"\nmv \"$PIDFILE.tmp\" \"$PIDFILE\"\nwait\n")
	errc := make(chan error, 1)
	go func() {
		_, err := sdk.Open(plug, sdk.WithStartTimeout(10*time.Minute), sdk.WithEnv("PIDFILE="+pidfile), sdk.WithLogger(discard))
		errc <- err
	}()
	waitFor(t, func() bool { _, err := os.Stat(pidfile); return err == nil })
	pids := readPids(t, pidfile)
	sdk.CloseAll()
	select {
	case err := <-errc:
		if err == nil || !strings.Contains(err.Error(), "was killed by signal 9") {
			t.Errorf("Open: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Open has not returned a minute after CloseAll")
	}
	for _, pid := range pids {
		waitGone(t, pid, "a process of the plugin being opened")
	}
}

// go-plugin makes a private directory for each start's Unix socket and
// leaves it to the runner: nothing of a plugin that was closed, or that
// crashed and was restarted, stays in the temporary directory.
func TestNoSocketDirectoryLeft(t *testing.T) {
	if testing.Short() {
		t.Skip("starts plugin processes")
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	left := func() []string {
		m, err := filepath.Glob(filepath.Join(tmp, "plugin-dir*"))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	p := openHelper(t, "plugin")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := p.Infer(ctx, fake.Request("hello")); err != nil {
		t.Fatal(err)
	}
	if len(left()) == 0 {
		t.Fatal("no socket directory under TMPDIR while the plugin runs: the test does not see go-plugin's")
	}
	// A crash: the restarted process gets a new directory, the old one goes.
	first := p.Status().PID
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for p.Status().PID == first || p.Status().PID == 0 {
		if ctx.Err() != nil {
			t.Fatal("the plugin was not restarted")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := p.Infer(ctx, fake.Request("again")); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if m := left(); len(m) != 0 {
		t.Errorf("left behind after a crash, a restart and Close: %v", m)
	}
	// Starts that fail: the plugin exits before the handshake, or never
	// completes it.
	bin, manifest := self(t)
	if _, err := openWithin(t, bin, append(sdktest.Emulated(), sdk.WithManifestFile(manifest), sdk.WithEnv(helperEnv+"=exit3"))...); err == nil {
		t.Fatal("a plugin that exits 3 started")
	}
	if _, err := openWithin(t, lockedScript(t, "sleep 1000\n"), sdk.WithStartTimeout(500*time.Millisecond)); err == nil {
		t.Fatal("a plugin that never answers started")
	}
	if m := left(); len(m) != 0 {
		t.Errorf("left behind by failed starts: %v", m)
	}
}

// A plugin that panics while starting is reported by its panic line, not
// by the last frame of its stack, and the crash report reaches the host's
// log as errors.
func TestPanicAtStart(t *testing.T) {
	plug := lockedScript(t, `echo 'loading model' >&2
echo 'panic: open /nowhere/model.erm: no such file or directory' >&2
echo '' >&2
echo 'goroutine 1 [running]:' >&2
echo 'main.main()' >&2
echo '	/src/cmd/plug/main.go:12 +0x1d' >&2
exit 2
`)
	var log bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(b []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return log.Write(b)
	}), &slog.HandlerOptions{Level: slog.LevelInfo}))
	_, err := openWithin(t, plug, sdk.WithLogger(logger))
	if err == nil || !strings.Contains(err.Error(), "exited with status 2 before the go-plugin handshake; it crashed: panic: open /nowhere/model.erm") {
		t.Errorf("err = %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, want := range []string{
		`level=INFO msg="loading model"`,
		`level=ERROR msg="panic: open /nowhere/model.erm`,
		`level=ERROR msg="goroutine 1 [running]:"`,
		`level=ERROR msg="\t/src/cmd/plug/main.go:12 +0x1d"`,
	} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the host's log lacks %s:\n%s", want, log.String())
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
