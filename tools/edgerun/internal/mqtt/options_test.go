package mqtt

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOptionsNormalize(t *testing.T) {
	tests := []struct {
		broker, host, transport string
	}{
		{"tcp://127.0.0.1:1884", "127.0.0.1:1884", "tcp"},
		{"mqtt://broker.local", "broker.local:1883", "tcp"},
		{"ssl://broker.local", "broker.local:8883", "tls"},
		{"mqtts://[::1]:9000", "[::1]:9000", "tls"},
		{"TLS://b:1", "b:1", "tls"},
	}
	for _, tt := range tests {
		o := Options{Broker: tt.broker}
		u, transport, err := o.normalize()
		if err != nil {
			t.Errorf("%s: %v", tt.broker, err)
			continue
		}
		if u.Host != tt.host || transport != tt.transport {
			t.Errorf("%s: host %s transport %s, want %s %s", tt.broker, u.Host, transport, tt.host, tt.transport)
		}
		if !strings.HasPrefix(o.ClientID, "edgerun-") || o.Outbox != DefaultOutbox || o.MinBackoff != DefaultMinBackoff || o.Logger == nil {
			t.Errorf("%s: defaults not filled: %+v", tt.broker, o)
		}
	}
}

func TestOptionsInvalid(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"no broker", Options{}, "Broker is empty"},
		{"bad scheme", Options{Broker: "ws://h:1"}, "scheme"},
		{"no host", Options{Broker: "tcp://:1883"}, "no host"},
		{"unparsable", Options{Broker: "tcp://h:port"}, "Broker"},
		{"path", Options{Broker: "tcp://h:1/x"}, "no path"},
		{"both passwords", Options{Broker: "tcp://h", Password: "a", PasswordFile: "f"}, "both set"},
		{"missing password file", Options{Broker: "tcp://h", PasswordFile: filepath.Join(dir, "nope")}, "PasswordFile"},
		{"negative outbox", Options{Broker: "tcp://h", Outbox: -1}, "Outbox is negative"},
		{"negative bytes", Options{Broker: "tcp://h", OutboxBytes: -1}, "OutboxBytes is negative"},
		{"negative keepalive", Options{Broker: "tcp://h", KeepAlive: -1}, "KeepAlive is negative"},
		{"backoff order", Options{Broker: "tcp://h", MinBackoff: 2e9, MaxBackoff: 1e9}, "less than MinBackoff"},
	}
	for _, tt := range tests {
		_, err := New(tt.o)
		if err == nil || !errors.Is(err, ErrOptions) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want ErrOptions mentioning %q", tt.name, err, tt.want)
		}
	}
}

func TestOptionsPasswordFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(f, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o := Options{Broker: "tcp://h", PasswordFile: f}
	if _, _, err := o.normalize(); err != nil {
		t.Fatal(err)
	}
	if o.Password != "s3cret" {
		t.Fatalf("password %q", o.Password)
	}
}

func TestCheckTopic(t *testing.T) {
	for _, ok := range []string{"a", "edgerun/pump-3/alert", "/", "ü/ß"} {
		if err := CheckTopic(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a/+/b", "a/#", "a\x00b", "\xff", strings.Repeat("x", maxTopic+1)} {
		if err := CheckTopic(bad); !errors.Is(err, ErrTopic) {
			t.Errorf("%.20q: err %v, want ErrTopic", bad, err)
		}
	}
}
