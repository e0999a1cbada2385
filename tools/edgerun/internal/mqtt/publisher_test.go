package mqtt_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/edgerun/edgerun/tools/edgerun/internal/mqtt/mqtttest"
	"log/slog"
	"net"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgerun/edgerun/tools/edgerun/internal/mqtt"
)

// subscriber is a paho client in the test with a persistent session (clean
// session off, so the broker keeps its subscription and queued messages
// across a restart) that also subscribes again on every connect. It
// records the integer payloads it receives, in arrival order.
type subscriber struct {
	client     paho.Client
	subscribed atomic.Int64 // subscriptions acknowledged

	mu  sync.Mutex
	got []int
	bad []string
}

func subscribe(t *testing.T, b *mqtttest.Broker, topic string) *subscriber {
	t.Helper()
	s := &subscriber{}
	id := "sub-" + strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	o := paho.NewClientOptions().
		AddBroker(b.URL()).
		SetClientID(id).
		SetCleanSession(false).
		SetAutoReconnect(true).
		SetMaxReconnectInterval(200 * time.Millisecond).
		SetConnectRetry(true).
		SetConnectRetryInterval(100 * time.Millisecond).
		SetOrderMatters(true).
		SetOnConnectHandler(func(c paho.Client) {
			tok := c.Subscribe(topic, 1, s.record)
			if tok.Wait() && tok.Error() == nil {
				s.subscribed.Add(1)
			}
		})
	s.client = paho.NewClient(o)
	s.client.Connect()
	t.Cleanup(func() { s.client.Disconnect(0) })
	mqtttest.WaitFor(t, "the subscriber's subscription", func() bool { return s.subscribed.Load() > 0 })
	return s
}

func (s *subscriber) record(_ paho.Client, m paho.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := strconv.Atoi(string(m.Payload()))
	if err != nil {
		s.bad = append(s.bad, string(m.Payload()))
		return
	}
	s.got = append(s.got, n)
}

// firsts returns the received values in order of first occurrence (QoS 1
// may redeliver a message; a duplicate is allowed, reordering is not), and
// how many receipts were duplicates.
func (s *subscriber) firsts() (order []int, dups int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[int]bool{}
	for _, n := range s.got {
		if seen[n] {
			dups++
			continue
		}
		seen[n] = true
		order = append(order, n)
	}
	return order, dups
}

func (s *subscriber) distinct() int { o, _ := s.firsts(); return len(o) }

func (s *subscriber) check(t *testing.T, want []int) (dups int) {
	t.Helper()
	got, dups := s.firsts()
	s.mu.Lock()
	bad := s.bad
	s.mu.Unlock()
	if len(bad) > 0 {
		t.Errorf("unexpected payloads: %q", bad)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("received (first occurrences, in order) %v\nwant %v", got, want)
	}
	return dups
}

func seq(from, to int) []int {
	var s []int
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

func newPublisher(t *testing.T, o mqtt.Options) *mqtt.Publisher {
	t.Helper()
	if o.ClientID == "" {
		o.ClientID = "pub-" + strings.NewReplacer("/", "-").Replace(t.Name())
	}
	if o.MinBackoff == 0 {
		o.MinBackoff, o.MaxBackoff = 20*time.Millisecond, 200*time.Millisecond
	}
	o.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p, err := mqtt.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		p.Close(ctx)
	})
	return p
}

// testWriter sends the publisher's log to t.Log (shown on failure or -v).
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func publish(t *testing.T, p *mqtt.Publisher, topic string, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := p.Publish(topic, []byte(strconv.Itoa(i))); err != nil {
			t.Fatalf("Publish %d: %v", i, err)
		}
	}
}

// noLeak waits until the goroutine count is back to base.
func noLeak(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func closeWithin(t *testing.T, p *mqtt.Publisher, d time.Duration) (int, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return p.Close(ctx)
}

func TestPublishInOrder(t *testing.T) {
	b := mqtttest.NewBroker(t)
	b.Start()
	const topic, n = "edgerun/test/order", 300
	sub := subscribe(t, b, topic)
	base := runtime.NumGoroutine()

	p := newPublisher(t, mqtt.Options{Broker: b.URL()})
	publish(t, p, topic, 0, n)
	mqtttest.WaitFor(t, "all messages at the subscriber", func() bool { return sub.distinct() == n })
	if dups := sub.check(t, seq(0, n)); dups != 0 {
		t.Errorf("%d duplicates without any broker restart", dups)
	}
	st := p.Stats()
	if st.Sent != n || st.Dropped != 0 || st.Queued != 0 || !st.Connected || st.Reconnects != 0 {
		t.Errorf("stats %+v, want Sent=%d, nothing dropped or queued, connected once", st, n)
	}
	if unsent, err := closeWithin(t, p, 10*time.Second); unsent != 0 || err != nil {
		t.Fatalf("Close: %d unsent, %v", unsent, err)
	}
	if st := p.Stats(); st.Connected {
		t.Error("still connected after Close")
	}
	if err := p.Publish(topic, []byte("late")); !errors.Is(err, mqtt.ErrClosed) {
		t.Errorf("Publish after Close: %v, want ErrClosed", err)
	}
	noLeak(t, base)
}

func TestPublishAtMostOnce(t *testing.T) {
	b := mqtttest.NewBroker(t)
	b.Start()
	const topic, n = "edgerun/test/qos0", 50
	sub := subscribe(t, b, topic)
	p := newPublisher(t, mqtt.Options{Broker: b.URL(), AtMostOnce: true})
	publish(t, p, topic, 0, n)
	mqtttest.WaitFor(t, "all messages at the subscriber", func() bool { return sub.distinct() == n })
	sub.check(t, seq(0, n))
	if unsent, err := closeWithin(t, p, 10*time.Second); unsent != 0 || err != nil {
		t.Fatalf("Close: %d unsent, %v", unsent, err)
	}
	if st := p.Stats(); st.Sent != n {
		t.Errorf("Sent %d, want %d", st.Sent, n)
	}
}

// TestBrokerRestartMidStream stops the broker while messages are being
// sent, publishes more while it is down, restarts it on the same port and
// publishes more: the subscriber gets every message, the first occurrence
// of each in order (QoS 1 may redeliver some: duplicates are counted, not
// failed).
func TestBrokerRestartMidStream(t *testing.T) {
	b := mqtttest.NewBroker(t)
	b.Start()
	const topic = "edgerun/test/restart"
	sub := subscribe(t, b, topic)
	p := newPublisher(t, mqtt.Options{Broker: b.URL(), Outbox: 100})
	mqtttest.WaitFor(t, "the publisher's connection", func() bool { return p.Stats().Connected })

	publish(t, p, topic, 0, 50)
	b.Stop() // while the 50 are being sent
	t.Logf("%d of the first 50 acknowledged before the broker stopped", p.Stats().Sent)
	mqtttest.WaitFor(t, "the publisher to notice the broker is gone", func() bool { return !p.Stats().Connected })
	publish(t, p, topic, 50, 80)
	if st := p.Stats(); st.Queued < 30 {
		t.Fatalf("with the broker down, %d queued; want at least the 30 published while down", st.Queued)
	}
	b.Start()
	publish(t, p, topic, 80, 100)

	mqtttest.WaitFor(t, "all 100 messages at the subscriber", func() bool { return sub.distinct() == 100 })
	dups := sub.check(t, seq(0, 100))
	st := p.Stats()
	t.Logf("stats %+v; %d duplicate deliveries", st, dups)
	if st.Dropped != 0 || st.Reconnects < 1 {
		t.Errorf("stats %+v: want nothing dropped and at least one reconnect", st)
	}
	mqtttest.WaitFor(t, "the outbox to empty", func() bool { st := p.Stats(); return st.Queued == 0 && st.Sent == 100 })
	if unsent, err := closeWithin(t, p, 10*time.Second); unsent != 0 || err != nil {
		t.Fatalf("Close: %d unsent, %v", unsent, err)
	}
}

// TestOutboxOverflowWhileDown: with the broker down, 12 messages into an
// outbox of 5 drop exactly the 7 oldest; the 5 newest arrive when the
// broker is back.
func TestOutboxOverflowWhileDown(t *testing.T) {
	b := mqtttest.NewBroker(t)
	b.Start()
	const topic = "edgerun/test/overflow"
	sub := subscribe(t, b, topic)
	p := newPublisher(t, mqtt.Options{Broker: b.URL(), Outbox: 5})
	mqtttest.WaitFor(t, "the publisher's connection", func() bool { return p.Stats().Connected })
	b.Stop()
	mqtttest.WaitFor(t, "the publisher to notice the broker is gone", func() bool { return !p.Stats().Connected })

	publish(t, p, topic, 0, 12)
	if st := p.Stats(); st.Dropped != 7 || st.Queued != 5 || st.Sent != 0 {
		t.Fatalf("stats %+v, want Dropped=7 Queued=5 Sent=0", st)
	}
	b.Start()
	mqtttest.WaitFor(t, "the 5 newest at the subscriber", func() bool { return sub.distinct() >= 5 })
	mqtttest.WaitFor(t, "the outbox to empty", func() bool { return p.Stats().Queued == 0 })
	sub.check(t, seq(7, 12))
	if st := p.Stats(); st.Sent != 5 || st.Dropped != 7 {
		t.Errorf("stats %+v, want Sent=5 Dropped=7", st)
	}
}

// TestBrokerDownAtStart: New succeeds with no broker, reports the failure
// in Stats, keeps what is published, and delivers it once the broker starts.
func TestBrokerDownAtStart(t *testing.T) {
	b := mqtttest.NewBroker(t)
	const topic = "edgerun/test/late-broker"
	// Make the subscriber's persistent session, then take the broker down.
	b.Start()
	sub := subscribe(t, b, topic)
	b.Stop()

	p := newPublisher(t, mqtt.Options{Broker: b.URL()})
	publish(t, p, topic, 0, 10)
	mqtttest.WaitFor(t, "a connection error in Stats", func() bool { return p.Stats().LastError != "" })
	if st := p.Stats(); st.Connected || st.Queued != 10 || st.Sent != 0 {
		t.Fatalf("broker down: stats %+v, want not connected, 10 queued", st)
	}
	b.Start()
	mqtttest.WaitFor(t, "the 10 messages acknowledged", func() bool { return p.Stats().Sent == 10 })
	mqtttest.WaitFor(t, "the 10 messages at the subscriber", func() bool { return sub.distinct() == 10 })
	sub.check(t, seq(0, 10))
	if st := p.Stats(); st.Reconnects != 0 || !st.Connected {
		t.Errorf("stats %+v: the first connection is not a reconnect", st)
	}
}

// TestCloseUnreachable: with nothing listening, Close returns when its
// context ends, reports every message unsent, and leaves no goroutine.
func TestCloseUnreachable(t *testing.T) {
	base := runtime.NumGoroutine()
	p, err := mqtt.New(mqtt.Options{
		Broker:     fmt.Sprintf("tcp://127.0.0.1:%d", mqtttest.FreePort(t)),
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	publish(t, p, "edgerun/test/unreachable", 0, 7)
	mqtttest.WaitFor(t, "a connection error in Stats", func() bool { return p.Stats().LastError != "" })
	unsent, err := closeWithin(t, p, 200*time.Millisecond)
	if unsent != 7 || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close: %d unsent, %v; want 7 and a deadline error", unsent, err)
	}
	if again, _ := closeWithin(t, p, time.Millisecond); again != 7 {
		t.Errorf("second Close reports %d unsent, want 7", again)
	}
	if err := p.Publish("edgerun/test/unreachable", nil); !errors.Is(err, mqtt.ErrClosed) {
		t.Errorf("Publish after Close: %v, want ErrClosed", err)
	}
	noLeak(t, base)
}

// TestCloseAbortsStalledHandshake: a "broker" that accepts TCP and never
// answers CONNECT holds the publisher in its handshake; Close with a short
// context must not wait for the (one minute) connect timeout.
func TestCloseAbortsStalledHandshake(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	t.Cleanup(func() {
		l.Close()
		for c := range accepted {
			c.Close()
		}
	})
	base := runtime.NumGoroutine()
	p, err := mqtt.New(mqtt.Options{Broker: "tcp://" + l.Addr().String(), ConnectTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	publish(t, p, "edgerun/test/stalled", 0, 3)
	c := <-accepted // the publisher is now waiting for a CONNACK
	defer c.Close()

	type result struct {
		unsent int
		err    error
	}
	done := make(chan result, 1)
	go func() {
		n, err := closeWithin(t, p, 100*time.Millisecond)
		done <- result{n, err}
	}()
	select {
	case r := <-done:
		if r.unsent != 3 || !errors.Is(r.err, context.DeadlineExceeded) {
			t.Fatalf("Close: %d unsent, %v; want 3 and a deadline error", r.unsent, r.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Close still waiting on the handshake well after its context ended")
	}
	noLeak(t, base)
}

func TestPublishRejects(t *testing.T) {
	p, err := mqtt.New(mqtt.Options{Broker: fmt.Sprintf("tcp://127.0.0.1:%d", mqtttest.FreePort(t)), OutboxBytes: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer closeWithin(t, p, 10*time.Millisecond)
	if err := p.Publish("a/+", nil); !errors.Is(err, mqtt.ErrTopic) {
		t.Errorf("wildcard topic: %v", err)
	}
	if err := p.Publish("a", make([]byte, 64)); !errors.Is(err, mqtt.ErrTooLarge) {
		t.Errorf("65-byte message in a 64-byte outbox: %v", err)
	}
	if st := p.Stats(); st.Queued != 0 || st.Dropped != 0 {
		t.Errorf("refused messages changed the stats: %+v", st)
	}
}
