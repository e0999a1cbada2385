package mqtt

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"time"
	"unicode/utf8"
)

// Options configures a Publisher. Only Broker is required; the zero value
// of every other field means its default.
type Options struct {
	// Broker is the broker URL: tcp://host:port or mqtt://host:port (plain
	// TCP, default port 1883), ssl://, tls:// or mqtts:// (TLS, default
	// port 8883).
	Broker string
	// ClientID identifies the connection to the broker. Default:
	// "edgerun-" and 8 random hex digits. Two clients with one ID take
	// the connection from each other, so give each Publisher its own.
	ClientID string
	// Username and Password authenticate to the broker. PasswordFile,
	// when set, is read once by New (one trailing newline is removed);
	// Password and PasswordFile exclude each other.
	Username     string
	Password     string
	PasswordFile string
	// TLSConfig is used for ssl://, tls:// and mqtts:// brokers (nil: the
	// system roots, server name from the URL).
	TLSConfig *tls.Config
	// AtMostOnce publishes with QoS 0: a message counts as sent once it is
	// written to the connection. The default (false) is QoS 1: a message
	// leaves the outbox only when the broker's PUBACK arrives.
	AtMostOnce bool
	// Retain sets the MQTT retain flag on every message.
	Retain bool
	// KeepAlive is the MQTT keep-alive interval (default 30s); a broker
	// that stops answering pings is noticed within about 1.5× it.
	KeepAlive time.Duration
	// Outbox is the most messages held while they wait to be sent
	// (default 1000); one more may be in flight. OutboxBytes bounds the
	// bytes they hold, topic plus payload (default 4 MiB); a single
	// message larger than OutboxBytes is refused by Publish.
	Outbox      int
	OutboxBytes int
	// MinBackoff and MaxBackoff bound the wait between connection
	// attempts (defaults 500ms and 30s): it doubles after each failure,
	// with jitter, from MinBackoff up to MaxBackoff.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// ConnectTimeout bounds one connection attempt, TCP and TLS and the
	// MQTT handshake (default 10s), and one write to the connection.
	ConnectTimeout time.Duration
	// AckTimeout is how long a PUBACK may take before the connection is
	// considered broken and rebuilt (default 30s).
	AckTimeout time.Duration
	// Logger receives connection changes and drops (default: discarded).
	Logger *slog.Logger
}

// Defaults used by New for zero Options fields.
const (
	DefaultOutbox         = 1000
	DefaultOutboxBytes    = 4 << 20
	DefaultKeepAlive      = 30 * time.Second
	DefaultMinBackoff     = 500 * time.Millisecond
	DefaultMaxBackoff     = 30 * time.Second
	DefaultConnectTimeout = 10 * time.Second
	DefaultAckTimeout     = 30 * time.Second
)

// maxTopic is the longest topic MQTT can carry (a 16-bit length prefix).
const maxTopic = 65535

// Errors returned by New and Publish; match them with errors.Is.
var (
	ErrClosed   = errors.New("mqtt: publisher is closed")
	ErrTopic    = errors.New("mqtt: invalid topic")
	ErrTooLarge = errors.New("mqtt: message larger than the outbox")
	ErrOptions  = errors.New("mqtt: invalid options")
)

// normalize checks o, fills in defaults and returns the broker URL, with
// its port, and the scheme group ("tcp" or "tls").
func (o *Options) normalize() (broker *url.URL, transport string, err error) {
	bad := func(format string, args ...any) (*url.URL, string, error) {
		return nil, "", fmt.Errorf("%w: %s", ErrOptions, fmt.Sprintf(format, args...))
	}
	if o.Broker == "" {
		return bad("Broker is empty (want tcp://host:port)")
	}
	u, err := url.Parse(o.Broker)
	if err != nil {
		return bad("Broker %q: %v", o.Broker, err)
	}
	port := ""
	switch strings.ToLower(u.Scheme) {
	case "tcp", "mqtt":
		transport, port = "tcp", "1883"
	case "ssl", "tls", "mqtts":
		transport, port = "tls", "8883"
	default:
		return bad("Broker %q: scheme %q is not one of tcp, mqtt, ssl, tls, mqtts", o.Broker, u.Scheme)
	}
	if u.Hostname() == "" {
		return bad("Broker %q has no host", o.Broker)
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), port)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return bad("Broker %q: a broker URL has no path or query", o.Broker)
	}
	if o.ClientID == "" {
		var b [4]byte
		_, _ = rand.Read(b[:])
		o.ClientID = "edgerun-" + hex.EncodeToString(b[:])
	}
	if len(o.ClientID) > maxTopic || !utf8.ValidString(o.ClientID) {
		return bad("ClientID is not a valid MQTT string")
	}
	if o.PasswordFile != "" {
		if o.Password != "" {
			return bad("Password and PasswordFile are both set")
		}
		b, err := os.ReadFile(o.PasswordFile)
		if err != nil {
			return bad("PasswordFile: %v", err)
		}
		o.Password = strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	}
	for _, f := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"KeepAlive", &o.KeepAlive, DefaultKeepAlive},
		{"MinBackoff", &o.MinBackoff, DefaultMinBackoff},
		{"MaxBackoff", &o.MaxBackoff, DefaultMaxBackoff},
		{"ConnectTimeout", &o.ConnectTimeout, DefaultConnectTimeout},
		{"AckTimeout", &o.AckTimeout, DefaultAckTimeout},
	} {
		switch {
		case *f.v < 0:
			return bad("%s is negative (%v)", f.name, *f.v)
		case *f.v == 0:
			*f.v = f.def
		}
	}
	if o.MaxBackoff < o.MinBackoff {
		return bad("MaxBackoff %v is less than MinBackoff %v", o.MaxBackoff, o.MinBackoff)
	}
	switch {
	case o.Outbox < 0:
		return bad("Outbox is negative (%d)", o.Outbox)
	case o.Outbox == 0:
		o.Outbox = DefaultOutbox
	}
	switch {
	case o.OutboxBytes < 0:
		return bad("OutboxBytes is negative (%d)", o.OutboxBytes)
	case o.OutboxBytes == 0:
		o.OutboxBytes = DefaultOutboxBytes
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return u, transport, nil
}

// CheckTopic reports whether topic may be published to: non-empty, valid
// UTF-8 without NUL, no + or # wildcards, at most 65535 bytes.
func CheckTopic(topic string) error {
	switch {
	case topic == "":
		return fmt.Errorf("%w: empty", ErrTopic)
	case len(topic) > maxTopic:
		return fmt.Errorf("%w: %d bytes, more than %d", ErrTopic, len(topic), maxTopic)
	case !utf8.ValidString(topic):
		return fmt.Errorf("%w: %q is not UTF-8", ErrTopic, topic)
	case strings.ContainsAny(topic, "+#\x00"):
		return fmt.Errorf("%w: %q holds a wildcard (+ #) or NUL", ErrTopic, topic)
	}
	return nil
}
