package sdk_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/internal/fake"
	"github.com/edgerun/edgerun/sdk/sdktest"
)

// The end-to-end tests re-execute this test binary as a real plugin (go-plugin's
// TestHelperProcess pattern): TestMain becomes the plugin when helperEnv
// says which one.
const helperEnv = "EDGERUN_SDK_TEST_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "plugin":
		sdk.Serve(&fake.Model{})
	case "plugin-v1": // a plugin built before protocol version 2 existed
		plugin.Serve(&plugin.ServeConfig{
			HandshakeConfig:  sdk.Handshake,
			VersionedPlugins: map[int]plugin.PluginSet{1: sdk.PluginSets(&fake.Model{})[1]},
			GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
				return grpc.NewServer(append(opts, grpc.MaxRecvMsgSize(sdk.MaxMessageBytes), grpc.MaxSendMsgSize(sdk.MaxMessageBytes))...)
			},
		})
	case "stderr":
		fmt.Fprintln(os.Stderr, "hello from the plugin's stderr")
		log.Print("hello from the plugin's log")
		sdk.Serve(&fake.Model{})
	case "marker": // proves the binary ran
		_ = os.WriteFile(os.Getenv("EDGERUN_SDK_TEST_MARKER"), []byte("ran"), 0o644)
		sdk.Serve(&fake.Model{})
	case "die": // gives up before the handshake, saying why
		fmt.Fprintln(os.Stderr, "starting")
		fmt.Fprintln(os.Stderr, "fake: no model file at /nowhere")
		os.Exit(1)
	case "hang": // never completes the handshake
		time.Sleep(time.Minute)
	case "mute": // announces an address where it never answers
		sock := filepath.Join(os.Getenv("EDGERUN_SDK_TEST_MARKER"), "sock")
		l, err := net.Listen("unix", sock)
		if err != nil {
			panic(err)
		}
		fmt.Printf("1|%d|unix|%s|grpc|\n", sdk.ProtocolVersion, sock)
		held := make(chan net.Conn, 64)
		for {
			c, err := l.Accept()
			if err != nil {
				panic(err)
			}
			select {
			case held <- c: // kept open, never read
			default:
				c.Close()
			}
		}
	case "exit3": // gives up before the handshake with status 3, saying nothing
		os.Exit(3)
	case "spawn": // starts a child of its own (noting its pid), then serves
		child := exec.Command("sleep", "1000")
		if err := child.Start(); err != nil {
			panic(err)
		}
		f, err := os.OpenFile(os.Getenv("EDGERUN_SDK_TEST_MARKER"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			panic(err)
		}
		fmt.Fprintln(f, child.Process.Pid)
		f.Close()
		sdk.Serve(&fake.Model{})
	case "host-script": // a host that starts $PLUGIN, which never completes the handshake
		_, err := sdk.Open(os.Getenv("PLUGIN"), sdk.WithStartTimeout(10*time.Minute), sdk.WithLogger(discard))
		fmt.Println("error", err)
		os.Exit(1)
	case "host": // a host that opens a plugin, says its pid, and waits to be killed
		p, err := sdk.Open(os.Args[0], append(sdktest.Emulated(), sdk.WithoutVerification(), sdk.WithEnv(helperEnv+"=plugin"),
			sdk.WithLogger(discard))...)
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("pid", p.Status().PID)
		time.Sleep(time.Minute)
	}
	os.Exit(0)
}

var discard = slogDiscard()

// command is exec.Command for this test binary, through the emulator under
// qemu-user.
func command(args ...string) *exec.Cmd {
	if q := os.Getenv("QEMU_USER"); q != "" {
		return exec.Command(q, append([]string{os.Args[0]}, args...)...)
	}
	return exec.Command(os.Args[0], args...)
}

// self returns this test binary and a manifest file listing it.
func self(t testing.TB) (bin, manifest string) {
	t.Helper()
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	sum, err := sdk.HashFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	m := &sdk.Manifest{}
	m.Add(bin, sum)
	manifest = filepath.Join(t.TempDir(), sdk.ManifestName)
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(manifest, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return bin, manifest
}

func openHelper(t *testing.T, mode string, opts ...sdk.Option) *sdk.Plugin {
	t.Helper()
	bin, manifest := self(t)
	opts = append(append(sdktest.Emulated(), sdk.WithName("fake"), sdk.WithManifestFile(manifest), sdk.WithEnv(helperEnv+"="+mode), sdk.WithLogger(discard)), opts...)
	p, err := sdk.Open(bin, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func TestPluginEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts plugin processes")
	}
	for _, c := range []struct {
		name, mode string
		opts       []sdk.Option
		protocol   int
		transport  string
	}{
		{"newest", "plugin", nil, sdk.ProtocolVersion, "channel"},
		// A host that offers only version 1 (as hosts built before version
		// 2 do) and a plugin built before version 2: both still work.
		{"v1_host", "plugin", []sdk.Option{sdk.WithProtocolVersion(1)}, 1, "grpc"},
		{"v1_plugin", "plugin-v1", nil, 1, "grpc"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := openHelper(t, c.mode, c.opts...)
			st := p.Status()
			if st.Protocol != c.protocol || st.Transport != c.transport {
				t.Fatalf("protocol %d over %q, want %d over %q", st.Protocol, st.Transport, c.protocol, c.transport)
			}
			testPluginEndToEnd(t, p)
		})
	}
}

func testPluginEndToEnd(t *testing.T, p *sdk.Plugin) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	st := p.Status()
	if st.State != sdk.Running || st.PID == 0 || st.Restarts != 0 {
		t.Fatalf("after Open: %+v", st)
	}
	sdktest.Run(t, p)
	d, err := p.Describe(ctx)
	if err != nil || d.Name != "fake" {
		t.Fatalf("Describe = %+v, %v", d, err)
	}
	if err := p.Health(ctx); err != nil {
		t.Fatal(err)
	}
	resp, err := p.Infer(ctx, fake.Request("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Outputs[0].INT64[0] != 5 || resp.Parameters["pid"] != strconv.Itoa(st.PID) {
		t.Fatalf("Infer = %+v", resp)
	}

	t.Run("bad_input", func(t *testing.T) {
		req := fake.Request("hello")
		req.Inputs = req.Inputs[:1]
		_, err := p.Infer(ctx, req)
		if !errors.Is(err, sdk.ErrInvalidInput) || err.Error() != `missing input "features" (FP32 [?,3])` {
			t.Errorf("missing input: %v", err)
		}
	})

	t.Run("large_message", func(t *testing.T) {
		// 8 MiB: over gRPC's default 4 MiB limit, under MaxMessageBytes.
		big := strings.Repeat("x", 8<<20)
		resp, err := p.Infer(ctx, fake.Request(big))
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.Outputs[0].INT64[0]; got != int64(len(big)) {
			t.Errorf("length %d, want %d", got, len(big))
		}
	})

	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(ctx, 150*time.Millisecond)
		defer cancel()
		req := fake.Request("hello")
		req.Parameters = map[string]string{"sleep": "5s"}
		if _, err := p.Infer(ctx, req); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want DeadlineExceeded", err)
		}
	})

	t.Run("sigkill_mid_request", func(t *testing.T) {
		old := p.Status().PID
		errc := make(chan error, 1)
		go func() {
			req := fake.Request("hello")
			req.Parameters = map[string]string{"sleep": "10s"}
			_, err := p.Infer(ctx, req)
			errc <- err
		}()
		time.Sleep(200 * time.Millisecond) // the request is in the plugin
		if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-errc:
			if !errors.Is(err, sdk.ErrUnavailable) || !strings.Contains(err.Error(), "exited during Infer") {
				t.Errorf("in-flight request: err = %v, want one saying the plugin exited", err)
			}
			t.Logf("in-flight request: %v", err)
		case <-time.After(5 * time.Second):
			t.Fatal("the in-flight request did not fail within 5 s of the kill")
		}
		for i := range 3 {
			resp, err := p.Infer(ctx, fake.Request("again"))
			if err != nil {
				t.Fatalf("call %d after the restart: %v", i, err)
			}
			if resp.Parameters["pid"] == strconv.Itoa(old) {
				t.Errorf("answered by the killed process %d", old)
			}
		}
		st := p.Status()
		if st.State != sdk.Running || st.Restarts != 1 || st.PID == old || st.PID == 0 || st.Err == nil {
			t.Errorf("after the restart: %+v", st)
		}
		if alive(old) {
			t.Errorf("killed process %d is still there", old)
		}
	})

	t.Run("close", func(t *testing.T) {
		pid := p.Status().PID
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Infer(ctx, fake.Request("x")); !errors.Is(err, sdk.ErrClosed) {
			t.Errorf("after Close: err = %v", err)
		}
		if alive(pid) {
			t.Errorf("plugin %d outlived Close", pid)
		}
		if st := p.Status(); st.State != sdk.Closed || st.PID != 0 {
			t.Errorf("after Close: %+v", st)
		}
	})
}

func TestPluginRestartLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("starts plugin processes")
	}
	p := openHelper(t, "plugin", sdk.WithRestartPolicy(1, 10*time.Millisecond, 10*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for range 2 {
		pid := p.Status().PID
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { st := p.Status(); return st.PID != pid })
		_, _ = p.Infer(ctx, fake.Request("x"))
	}
	waitFor(t, func() bool { return p.Status().State == sdk.Failed })
	st := p.Status()
	if st.Restarts != 1 || st.PID != 0 {
		t.Errorf("failed: %+v", st)
	}
	start := time.Now()
	_, err := p.Infer(ctx, fake.Request("x"))
	if !errors.Is(err, sdk.ErrUnavailable) || !strings.Contains(err.Error(), "limit of 1 restarts") {
		t.Errorf("Infer on a failed plugin: %v", err)
	}
	if time.Since(start) > time.Second {
		t.Error("a call on a failed plugin waited")
	}
}

func TestPluginRefusedBeforeStart(t *testing.T) {
	bin, manifest := self(t)
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	env := sdk.WithEnv(helperEnv+"=marker", "EDGERUN_SDK_TEST_MARKER="+marker)

	// A copy of the binary with one byte appended, listed with the original's sum.
	tampered := filepath.Join(dir, "fake-plugin")
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tampered, append(data, 0), 0o755); err != nil {
		t.Fatal(err)
	}
	sum, _ := sdk.HashFile(bin)
	m := &sdk.Manifest{}
	m.Add("fake-plugin", sum)
	m.Dir = dir

	_, err = sdk.Open(tampered, append(sdktest.Emulated(), sdk.WithManifest(m), env, sdk.WithLogger(discard))...)
	if !errors.Is(err, sdk.ErrChecksumMismatch) {
		t.Fatalf("tampered binary: err = %v, want ErrChecksumMismatch", err)
	}
	t.Logf("tampered: %v", err)

	_, err = sdk.Open(tampered, append(sdktest.Emulated(), sdk.WithManifestFile(manifest), env, sdk.WithLogger(discard))...)
	if !errors.Is(err, sdk.ErrNotInManifest) {
		t.Fatalf("unlisted binary: err = %v, want ErrNotInManifest", err)
	}
	t.Logf("unlisted: %v", err)

	_, err = sdk.Open(tampered, append(sdktest.Emulated(), env, sdk.WithLogger(discard))...)
	if err == nil || !strings.Contains(err.Error(), "no manifest") {
		t.Fatalf("no manifest beside the binary: err = %v", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a refused binary was executed")
	}
}

func TestPluginHandshakeTimeout(t *testing.T) {
	bin, manifest := self(t)
	start := time.Now()
	_, err := sdk.Open(bin, append(sdktest.Emulated(), sdk.WithManifestFile(manifest), sdk.WithEnv(helperEnv+"=hang"),
		sdk.WithStartTimeout(500*time.Millisecond), sdk.WithLogger(discard))...)
	if !errors.Is(err, sdk.ErrHandshakeTimeout) || !strings.Contains(err.Error(), "did not complete the go-plugin handshake within 500ms") {
		t.Fatalf("err = %v, want ErrHandshakeTimeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Open took %v with a 500 ms start timeout", d)
	}
	t.Logf("hang: %v", err)
}

func TestProtocolVersionOption(t *testing.T) {
	bin, manifest := self(t)
	marker := filepath.Join(t.TempDir(), "ran")
	_, err := sdk.Open(bin, append(sdktest.Emulated(), sdk.WithManifestFile(manifest), sdk.WithProtocolVersion(0),
		sdk.WithEnv(helperEnv+"=marker", "EDGERUN_SDK_TEST_MARKER="+marker), sdk.WithLogger(discard))...)
	if err == nil || !strings.Contains(err.Error(), "protocol versions start at 1") {
		t.Fatalf("WithProtocolVersion(0): err = %v", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the binary ran")
	}
}

func TestPluginThatExitsBeforeTheHandshake(t *testing.T) {
	bin, manifest := self(t)
	_, err := sdk.Open(bin, append(sdktest.Emulated(), sdk.WithName("fake"), sdk.WithManifestFile(manifest), sdk.WithEnv(helperEnv+"=die"),
		sdk.WithLogger(discard))...)
	want := "exited with status 1 before the go-plugin handshake; its last stderr line: fake: no model file at /nowhere"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want one ending %q", err, want)
	}
}

func TestPluginStderrReachesTheHostLog(t *testing.T) {
	if testing.Short() {
		t.Skip("starts plugin processes")
	}
	var mu sync.Mutex
	var buf bytes.Buffer
	p := openHelper(t, "stderr", sdk.WithName("chatty"), sdk.WithStderr(lockedWriter{&mu, &buf}))
	_ = p
	waitFor(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		s := buf.String()
		return strings.Contains(s, "chatty: hello from the plugin's stderr\n") && strings.Contains(s, "hello from the plugin's log\n")
	})
}

func TestNoOrphanWhenTheHostIsKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("starts plugin processes")
	}
	host := command()
	// The killed host cannot remove go-plugin's socket directory: keep it
	// in the test's own temporary directory.
	host.Env = append(os.Environ(), helperEnv+"=host", "TMPDIR="+t.TempDir())
	out, err := host.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := host.Start(); err != nil {
		t.Fatal(err)
	}
	defer host.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	if _, err := fmt.Sscanf(line, "pid %d", &pid); err != nil || pid == 0 {
		t.Fatalf("host said %q", line)
	}
	if err := host.Process.Kill(); err != nil { // SIGKILL: no cleanup in the host
		t.Fatal(err)
	}
	_ = host.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("plugin %d outlived its killed host by 5 s", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestManifest(t *testing.T) {
	text := "# plugins\n" +
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  sentiment\n" +
		"\n" +
		"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 *bin/intent\n"
	m, err := sdk.ParseManifest(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	m.Dir = "/opt/edgerun"
	for path, want := range map[string]string{
		"/opt/edgerun/sentiment":  "e3b0c442",
		"/elsewhere/sentiment":    "e3b0c442", // by base name
		"/opt/edgerun/bin/intent": "9f86d081",
		"/opt/edgerun/risk":       "",
	} {
		sum, ok := m.Lookup(path)
		if got := fmt.Sprintf("%x", sum); ok != (want != "") || !strings.HasPrefix(got, want) {
			t.Errorf("Lookup(%s) = %s, %v; want %s", path, got, ok, want)
		}
	}
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if want := "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  bin/intent\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  sentiment\n"; buf.String() != want {
		t.Errorf("WriteTo:\n%s", buf.String())
	}
	for _, bad := range []string{"abc  x\n", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n",
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a\n9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  a\n"} {
		if _, err := sdk.ParseManifest(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseManifest(%q) accepted it", bad)
		}
	}
}

// alive reports whether pid is a live (not zombie) process.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return syscall.Kill(pid, 0) == nil
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	// A safety net, not a speed check: a plugin restarted under qemu on a
	// busy machine can take several seconds.
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within a minute")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (w lockedWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(b)
}
