// Package mqtttest runs a real Mosquitto broker for tests: on a free
// loopback port, with persistence in a temporary folder, stopped and
// started again on the same port at will. A missing mosquitto skips the
// test, or fails it when EDGERUN_REQUIRE_MOSQUITTO=1 (make test sets it).
package mqtttest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// mosquittoEnv: set to 1 (make test does), a missing mosquitto fails the
// broker tests instead of skipping them.
const mosquittoEnv = "EDGERUN_REQUIRE_MOSQUITTO"

// Path finds the broker binary, on PATH or in /usr/sbin (where the
// Debian package puts it, often off a normal user's PATH), or skips.
func Path(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"} {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	if os.Getenv(mosquittoEnv) == "1" {
		t.Fatalf("%s=1 and no mosquitto on PATH or in /usr/sbin: install the Debian package mosquitto (scripts/ensure-deps mosquitto:mosquitto)", mosquittoEnv)
	}
	t.Skip("no mosquitto (Debian package mosquitto; make test installs it): the broker tests are skipped")
	return ""
}

// Broker is a real Mosquitto on a free loopback port, with persistence in a
// temporary directory so persistent sessions and their queued messages
// survive stop/start. It can be stopped and started again on the same port.
type Broker struct {
	t    testing.TB
	bin  string
	conf string
	port int

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
	log    *bytes.Buffer
}

// NewBroker writes the configuration; it does not start the broker. The
// test's cleanup stops it and, when the test failed, logs its output.
func NewBroker(t testing.TB) *Broker {
	t.Helper()
	bin := Path(t)
	dir := t.TempDir()
	b := &Broker{t: t, bin: bin, port: FreePort(t), conf: filepath.Join(dir, "mosquitto.conf")}
	conf := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location %s/\nautosave_interval 0\nlog_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\n",
		b.port, dir)
	// Run as root, mosquitto drops to the user "mosquitto", which cannot
	// write the temporary directory: keep the current user.
	if u, err := user.Current(); err == nil {
		conf += "user " + u.Username + "\n"
	}
	if err := os.WriteFile(b.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b.Stop()
		if t.Failed() {
			t.Logf("mosquitto log:\n%s", b.Log())
		}
	})
	return b
}

// URL is the broker's address, tcp://127.0.0.1:PORT.
func (b *Broker) URL() string { return "tcp://127.0.0.1:" + strconv.Itoa(b.port) }

// Start runs mosquitto and waits until its port accepts connections.
func (b *Broker) Start() {
	b.t.Helper()
	b.mu.Lock()
	if b.cmd != nil {
		b.mu.Unlock()
		b.t.Fatal("broker already running")
	}
	if b.log == nil {
		b.log = new(bytes.Buffer)
	}
	cmd := exec.Command(b.bin, "-c", b.conf)
	cmd.Stdout, cmd.Stderr = &syncWriter{mu: &b.mu, w: b.log}, &syncWriter{mu: &b.mu, w: b.log}
	if err := cmd.Start(); err != nil {
		b.mu.Unlock()
		b.t.Fatalf("start mosquitto: %v", err)
	}
	exited := make(chan struct{})
	b.cmd, b.exited = cmd, exited
	b.mu.Unlock()
	go func() { _ = cmd.Wait(); close(exited) }()
	WaitFor(b.t, "mosquitto accepting on "+b.URL(), func() bool {
		select {
		case <-exited:
			b.t.Fatalf("mosquitto exited at start:\n%s", b.Log())
		default:
		}
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(b.port), time.Second)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
}

// Stop ends mosquitto with SIGTERM (it saves its persistence file) and
// waits for it to exit.
func (b *Broker) Stop() {
	b.mu.Lock()
	cmd, exited := b.cmd, b.exited
	b.cmd = nil
	b.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// Log is what mosquitto has printed.
func (b *Broker) Log() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.log == nil {
		return ""
	}
	return b.log.String()
}

type syncWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// FreePort returns a loopback TCP port nothing listens on right now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WaitFor polls cond until it holds, failing the test after a generous
// deadline. It is how these tests wait: never a sleep as an assertion.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
