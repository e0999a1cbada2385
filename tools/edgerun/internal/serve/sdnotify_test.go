package serve

import (
	"bufio"
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestNotify: READY=1 arrives on a fake $NOTIFY_SOCKET, path or abstract.
func TestNotify(t *testing.T) {
	for _, abstract := range []bool{false, true} {
		name := filepath.Join(t.TempDir(), "notify.sock")
		env := name
		if abstract {
			name = "\x00edgerun-test-" + filepath.Base(filepath.Dir(name))
			env = "@" + name[1:]
		}
		ln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		t.Setenv("NOTIFY_SOCKET", env)
		sent, err := Notify("READY=1")
		if err != nil || !sent {
			t.Fatalf("abstract=%v: Notify: %v, %v", abstract, sent, err)
		}
		ln.SetReadDeadline(time.Now().Add(time.Minute)) // a safety net only
		buf := make([]byte, 64)
		n, err := ln.Read(buf)
		if err != nil || string(buf[:n]) != "READY=1" {
			t.Fatalf("abstract=%v: the socket got %q, %v", abstract, buf[:n], err)
		}
	}
}

func TestNotifyWithoutSocket(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	if sent, err := Notify("READY=1"); sent || err != nil {
		t.Fatalf("without NOTIFY_SOCKET: %v, %v; want false, nil", sent, err)
	}
	t.Setenv("NOTIFY_SOCKET", "relative.sock")
	if _, err := Notify("READY=1"); err == nil {
		t.Fatal("a relative NOTIFY_SOCKET is accepted")
	}
	t.Setenv("NOTIFY_SOCKET", filepath.Join(t.TempDir(), "nobody-listens"))
	if sent, err := Notify("READY=1"); sent || err == nil {
		t.Fatalf("no listener: %v, %v; want an error", sent, err)
	}
}

const unitPath = "../../../../boards/systemd/edgerun.service"

// parseUnit reads a systemd unit: section → key → values (a key may
// repeat), refusing lines that are neither comments, sections nor
// key=value.
func parseUnit(t *testing.T, data []byte) map[string]map[string][]string {
	t.Helper()
	units := map[string]map[string][]string{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[' && line[len(line)-1] == ']':
			section = line[1 : len(line)-1]
			units[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" || strings.TrimSpace(k) == "" {
				t.Fatalf("unit line %d: %q is not key=value in a section", n, line)
			}
			units[section][strings.TrimSpace(k)] = append(units[section][strings.TrimSpace(k)], strings.TrimSpace(v))
		}
	}
	return units
}

// TestSystemdUnit parses boards/systemd/edgerun.service, checks its
// hardening, and runs `systemd-analyze verify` on it (with ExecStart
// pointed at an executable that exists here) when systemd-analyze is
// installed.
func TestSystemdUnit(t *testing.T) {
	data, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	u := parseUnit(t, data)
	svc := u["Service"]
	for key, want := range map[string]string{
		"Type": "notify", "DynamicUser": "yes", "NoNewPrivileges": "yes", "ProtectSystem": "strict",
		"ProtectHome": "yes", "PrivateTmp": "yes", "CapabilityBoundingSet": "", "Restart": "on-failure",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "SystemCallFilter": "@system-service",
		"ReadOnlyPaths": "/var/lib/edgerun/models /var/lib/edgerun/plugins",
		"ExecStart":     "/usr/local/bin/edgerun serve --models /var/lib/edgerun/models --plugins /var/lib/edgerun/plugins",
	} {
		if got := svc[key]; !slices.Equal(got, []string{want}) {
			t.Errorf("[Service] %s = %q, want %q", key, got, want)
		}
	}
	if len(svc["MemoryMax"]) != 1 || svc["MemoryMax"][0] == "" || svc["MemoryMax"][0] == "infinity" {
		t.Errorf("[Service] MemoryMax = %q, want a bound", svc["MemoryMax"])
	}
	if got := u["Install"]["WantedBy"]; !slices.Equal(got, []string{"multi-user.target"}) {
		t.Errorf("[Install] WantedBy = %q", got)
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not found: the unit is parsed and checked, not verified by systemd")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	unit := filepath.Join(dir, "edgerun.service")
	if err := os.WriteFile(unit, bytes.ReplaceAll(data, []byte("/usr/local/bin/edgerun"), []byte(exe)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", unit).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}
