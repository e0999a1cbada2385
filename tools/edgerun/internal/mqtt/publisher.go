package mqtt

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// Publisher sends messages to one broker through a bounded outbox. Its
// methods are safe for concurrent use.
type Publisher struct {
	opts      Options
	broker    *url.URL
	transport string // "tcp" or "tls"
	qos       byte
	jitter    func() float64

	mu         sync.Mutex
	box        outbox
	inflight   *message // taken from box by the sender, not yet acknowledged
	closed     bool
	sent       uint64
	dropped    uint64
	reconnects uint64
	connected  bool
	everUp     bool
	dropping   bool // a drop was logged since the last send
	lastErr    string

	wake    chan struct{} // a message was queued (capacity 1)
	closing chan struct{} // closed by Close: flush, then stop
	done    chan struct{} // closed when the sender has stopped

	// abort ends the sender at once: Close's context ended. It cancels
	// dials and closes the current connection, so a handshake with a
	// broker that does not answer ends too.
	abort       context.Context
	cancelAbort context.CancelFunc
	connMu      sync.Mutex
	conn        net.Conn

	closeOnce sync.Once
}

// Stats is a snapshot of a Publisher's counters.
type Stats struct {
	// Queued is the number of messages not yet sent (waiting plus in flight).
	Queued int `json:"queued"`
	// Sent counts messages the broker acknowledged (QoS 1) or that were
	// written to the connection (QoS 0).
	Sent uint64 `json:"sent"`
	// Dropped counts messages removed from a full outbox unsent.
	Dropped uint64 `json:"dropped"`
	// Reconnects counts connections made after the first one.
	Reconnects uint64 `json:"reconnects"`
	// Connected says whether a connection to the broker is up.
	Connected bool `json:"connected"`
	// LastError is the latest connection or publish error ("" if none).
	LastError string `json:"last_error,omitempty"`
}

// New checks opts and starts the Publisher's sender, which connects in the
// background: an unreachable broker is reported in Stats and retried, not
// returned here. New fails only on invalid options (ErrOptions).
func New(opts Options) (*Publisher, error) {
	broker, transport, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	p := &Publisher{
		opts:      opts,
		broker:    broker,
		transport: transport,
		qos:       1,
		jitter:    rand.Float64,
		box:       newOutbox(opts.Outbox, opts.OutboxBytes),
		wake:      make(chan struct{}, 1),
		closing:   make(chan struct{}),
		done:      make(chan struct{}),
	}
	if opts.AtMostOnce {
		p.qos = 0
	}
	p.abort, p.cancelAbort = context.WithCancel(context.Background())
	context.AfterFunc(p.abort, func() {
		p.connMu.Lock()
		defer p.connMu.Unlock()
		if p.conn != nil {
			p.conn.Close()
		}
	})
	go p.run()
	return p, nil
}

// Publish queues payload for topic and returns at once; it never blocks on
// the network. The payload is copied. When the outbox is full the oldest
// waiting message is dropped and counted in Stats.Dropped. Publish fails
// only for an invalid topic (ErrTopic), a message larger than
// Options.OutboxBytes (ErrTooLarge), or after Close (ErrClosed).
func (p *Publisher) Publish(topic string, payload []byte) error {
	if err := CheckTopic(topic); err != nil {
		return err
	}
	m := message{topic: topic, payload: bytes.Clone(payload)}
	if m.size() > p.opts.OutboxBytes {
		return fmt.Errorf("%w: %d bytes on %q, outbox holds %d", ErrTooLarge, m.size(), topic, p.opts.OutboxBytes)
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrClosed
	}
	d := p.box.push(m)
	p.dropped += uint64(d)
	first := d > 0 && !p.dropping
	if d > 0 {
		p.dropping = true
	}
	dropped := p.dropped
	p.mu.Unlock()
	if first {
		p.opts.Logger.Warn("mqtt: outbox full, dropping the oldest messages", "broker", p.broker.Redacted(), "limit", p.opts.Outbox, "dropped_total", dropped)
	}
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return nil
}

// Stats returns the current counters.
func (p *Publisher) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Stats{
		Queued:     p.queuedLocked(),
		Sent:       p.sent,
		Dropped:    p.dropped,
		Reconnects: p.reconnects,
		Connected:  p.connected,
		LastError:  p.lastErr,
	}
}

// Close stops taking messages (Publish returns ErrClosed), sends what the
// outbox holds until that is done or ctx ends, then disconnects. It returns
// the number of messages left unsent and, when there are any, an error
// wrapping ctx's error. Close returns when ctx ends, at the latest
// ConnectTimeout later if a write to a stalled connection is under way.
// Calling Close again reports the same count.
func (p *Publisher) Close(ctx context.Context) (unsent int, err error) {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.closeOnce.Do(func() { close(p.closing) })
	select {
	case <-p.done:
	case <-ctx.Done():
		p.cancelAbort()
		<-p.done
	}
	p.cancelAbort()
	p.mu.Lock()
	unsent = p.queuedLocked()
	p.mu.Unlock()
	if unsent > 0 {
		cause := ctx.Err()
		if cause == nil {
			cause = errors.New("publisher stopped")
		}
		return unsent, fmt.Errorf("mqtt: close: %d message(s) left unsent: %w", unsent, cause)
	}
	return 0, nil
}

func (p *Publisher) queuedLocked() int {
	n := p.box.len()
	if p.inflight != nil {
		n++
	}
	return n
}

// session is one connection to the broker.
type session struct {
	client   paho.Client
	lost     chan struct{} // closed when paho reports the connection lost
	lostOnce sync.Once
	lostErr  error
}

func (s *session) markLost(err error) {
	s.lostOnce.Do(func() {
		s.lostErr = err
		close(s.lost)
	})
}

// run is the sender goroutine: connect with back-off, then publish the
// outbox in order, one message at a time, until Close.
func (p *Publisher) run() {
	defer close(p.done)
	var s *session
	failures := 0
	defer func() {
		if s != nil {
			p.end(s, true)
		}
	}()
	for {
		if p.finished() {
			return
		}
		if s == nil {
			if failures > 0 && !p.sleep(backoff(failures, p.opts.MinBackoff, p.opts.MaxBackoff, p.jitter())) {
				return
			}
			var err error
			if s, err = p.connect(); err != nil {
				failures++
				p.fail(err, failures == 1)
			} else {
				failures = 0
			}
			continue
		}
		m, ok := p.next(s)
		if !ok {
			select {
			case <-s.lost:
				p.fail(fmt.Errorf("connection lost: %w", s.lostErr), true)
				p.end(s, false)
				s, failures = nil, 1
			default: // closing with an empty outbox, or aborted
			}
			continue
		}
		if err := p.send(s, m); err != nil {
			if p.abort.Err() != nil {
				return
			}
			p.fail(err, true)
			p.end(s, false)
			s, failures = nil, 1
			continue
		}
		p.acked()
	}
}

// finished reports whether the sender should stop: aborted, or closing
// with nothing left to send.
func (p *Publisher) finished() bool {
	if p.abort.Err() != nil {
		return true
	}
	select {
	case <-p.closing:
	default:
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.queuedLocked() == 0
}

// sleep waits d, or until aborted (then it returns false).
func (p *Publisher) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-p.abort.Done():
		return false
	}
}

// next returns the message to send: the unacknowledged one in flight, else
// the oldest waiting one, which becomes in flight. It waits for one and
// returns false when the session is lost, when Close was called and the
// outbox is empty, or when aborted.
func (p *Publisher) next(s *session) (message, bool) {
	for {
		p.mu.Lock()
		if p.inflight == nil {
			if m, ok := p.box.pop(); ok {
				p.inflight = &m
			}
		}
		if p.inflight != nil {
			m := *p.inflight
			p.mu.Unlock()
			return m, true
		}
		p.mu.Unlock()
		select {
		case <-p.wake:
		case <-s.lost:
			return message{}, false
		case <-p.closing:
			return message{}, false
		case <-p.abort.Done():
			return message{}, false
		}
	}
}

// send publishes m on s and waits for its acknowledgement.
func (p *Publisher) send(s *session, m message) error {
	tok := s.client.Publish(m.topic, p.qos, p.opts.Retain, m.payload)
	t := time.NewTimer(p.opts.AckTimeout)
	defer t.Stop()
	select {
	case <-tok.Done():
		return tok.Error()
	case <-s.lost:
		select {
		case <-tok.Done(): // acknowledged just before the loss
			return tok.Error()
		default:
		}
		return fmt.Errorf("connection lost with a message in flight: %w", s.lostErr)
	case <-t.C:
		return fmt.Errorf("no PUBACK within %v", p.opts.AckTimeout)
	case <-p.abort.Done():
		return p.abort.Err()
	}
}

// acked retires the in-flight message.
func (p *Publisher) acked() {
	p.mu.Lock()
	p.inflight = nil
	p.sent++
	p.dropping = false
	p.mu.Unlock()
}

// fail records err; loud says whether to log it above debug level.
func (p *Publisher) fail(err error, loud bool) {
	p.mu.Lock()
	p.lastErr = err.Error()
	p.connected = false
	p.mu.Unlock()
	if loud {
		p.opts.Logger.Warn("mqtt: broker unavailable, retrying with back-off", "broker", p.broker.Redacted(), "err", err)
	} else {
		p.opts.Logger.Debug("mqtt: connection attempt failed", "broker", p.broker.Redacted(), "err", err)
	}
}

// connect opens a session; it returns within ConnectTimeout, or at once
// when aborted.
func (p *Publisher) connect() (*session, error) {
	s := &session{lost: make(chan struct{})}
	o := paho.NewClientOptions().
		AddBroker(p.broker.String()).
		SetClientID(p.opts.ClientID).
		SetUsername(p.opts.Username).
		SetPassword(p.opts.Password).
		SetCleanSession(true). // the outbox, not the session, keeps unsent messages
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetKeepAlive(p.opts.KeepAlive).
		SetConnectTimeout(p.opts.ConnectTimeout).
		SetWriteTimeout(p.opts.ConnectTimeout).
		SetCustomOpenConnectionFn(p.dial).
		SetConnectionLostHandler(func(_ paho.Client, err error) { s.markLost(err) })
	s.client = paho.NewClient(o)
	tok := s.client.Connect()
	<-tok.Done() // bounded by ConnectTimeout; an abort closes the connection
	if err := tok.Error(); err != nil {
		s.client.Disconnect(0)
		return nil, fmt.Errorf("connect %s: %w", p.broker.Redacted(), err)
	}
	p.mu.Lock()
	p.connected = true
	if p.everUp {
		p.reconnects++
	}
	p.everUp = true
	p.mu.Unlock()
	p.opts.Logger.Info("mqtt: connected", "broker", p.broker.Redacted(), "client_id", p.opts.ClientID)
	return s, nil
}

// end closes s; graceful sends DISCONNECT first (waiting up to 250ms).
func (p *Publisher) end(s *session, graceful bool) {
	var quiesce uint
	if graceful && p.abort.Err() == nil {
		quiesce = 250
	}
	s.client.Disconnect(quiesce)
	p.mu.Lock()
	p.connected = false
	p.mu.Unlock()
}

// dial opens the network connection for paho; an abort cancels it and
// closes the connection it returned.
func (p *Publisher) dial(u *url.URL, _ paho.ClientOptions) (net.Conn, error) {
	nd := &net.Dialer{Timeout: p.opts.ConnectTimeout}
	var (
		conn net.Conn
		err  error
	)
	if p.transport == "tls" {
		td := &tls.Dialer{NetDialer: nd, Config: p.opts.TLSConfig}
		conn, err = td.DialContext(p.abort, "tcp", u.Host)
	} else {
		conn, err = nd.DialContext(p.abort, "tcp", u.Host)
	}
	if err != nil {
		return nil, err
	}
	p.connMu.Lock()
	defer p.connMu.Unlock()
	if err := p.abort.Err(); err != nil {
		conn.Close()
		return nil, err
	}
	p.conn = conn
	return conn, nil
}
