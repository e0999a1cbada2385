package sdk

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	pb "github.com/edgerun/edgerun/sdk/proto"
)

// echo answers each request's text as its output; "block" waits for the
// context and reports its cause on blocked.
type echo struct {
	started chan struct{}
	blocked chan error
}

func (e *echo) Describe(context.Context) (*Description, error) {
	return &Description{Name: "echo", Version: "1", Domain: "test"}, nil
}
func (e *echo) Health(context.Context) error { return nil }
func (e *echo) Infer(ctx context.Context, req *InferRequest) (*InferResponse, error) {
	if req.Parameters["block"] != "" {
		e.started <- struct{}{}
		<-ctx.Done()
		e.blocked <- context.Cause(ctx)
		return nil, ctx.Err()
	}
	return &InferResponse{ID: req.ID, ModelName: "echo", Outputs: req.Inputs}, nil
}

// serveV2 serves m through protocol version 2 in this process and returns
// the host's Model and the gRPC connection under it.
func serveV2(t *testing.T, m Model) (Model, *grpc.ClientConn) {
	t.Helper()
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "p.sock"))
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer(serverOptions()...)
	p := &ModelPluginV2{Impl: m}
	if err := p.GRPCServer(nil, s); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(ln) }()
	conn, err := grpc.NewClient("unix://"+ln.Addr().String(), append(dialOptions(), grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(); s.Stop() })
	raw, err := (&ModelPluginV2{}).GRPCClient(context.Background(), nil, conn)
	if err != nil {
		t.Fatal(err)
	}
	return raw.(Model), conn
}

func textRequest(text string) *InferRequest {
	return &InferRequest{ID: "r", Inputs: []Tensor{{Name: "text", Datatype: BYTES, Shape: []int64{1}, BYTES: [][]byte{[]byte(text)}}}}
}

func TestChannelCarriesInfer(t *testing.T) {
	m, _ := serveV2(t, &echo{})
	c, ok := m.(*channelClient)
	if !ok {
		t.Fatalf("version 2's host model is %T, not the channel client", m)
	}
	if !strings.HasPrefix(c.address, "@edgerun-plugin-") {
		t.Errorf("channel address %q, want an abstract socket on Linux", c.address)
	}
	resp, err := m.Infer(context.Background(), textRequest("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(resp.Outputs[0].BYTES[0]); got != "hello" || resp.ID != "r" {
		t.Errorf("reply %q id %q", got, resp.ID)
	}
	c.mu.Lock()
	idle := len(c.idle)
	c.mu.Unlock()
	if idle != 1 {
		t.Errorf("%d idle connections after one call, want the one that made it", idle)
	}
}

func TestChannelConcurrentCallers(t *testing.T) {
	m, _ := serveV2(t, &echo{})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Go(func() {
			for i := range 50 {
				text := strings.Repeat("x", g*50+i+1)
				resp, err := m.Infer(context.Background(), textRequest(text))
				if err != nil {
					errs <- err
					return
				}
				if got := string(resp.Outputs[0].BYTES[0]); got != text {
					errs <- errors.New("a reply reached the wrong caller")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	c := m.(*channelClient)
	if n := len(c.idle); n < 1 || n > channelMaxIdle {
		t.Errorf("%d idle connections", n)
	}
}

func TestChannelCancelReachesThePlugin(t *testing.T) {
	e := &echo{started: make(chan struct{}, 1), blocked: make(chan error, 1)}
	m, _ := serveV2(t, e)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-e.started
		cancel()
	}()
	req := textRequest("x")
	req.Parameters = map[string]string{"block": "1"}
	_, err := m.Infer(ctx, req)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled call: err = %v, want context.Canceled", err)
	}
	select {
	case cause := <-e.blocked:
		if cause == nil || !strings.Contains(cause.Error(), "host closed the channel") {
			t.Errorf("the plugin's context ended with %v", cause)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the plugin's call was not cancelled")
	}
	if _, err := m.Infer(context.Background(), textRequest("after")); err != nil {
		t.Fatalf("call after a cancelled one: %v", err)
	}
}

func TestChannelFrameLimits(t *testing.T) {
	m, _ := serveV2(t, &echo{})
	c := m.(*channelClient)
	c.limit = 1 << 10
	_, err := m.Infer(context.Background(), textRequest(strings.Repeat("x", 2<<10)))
	if st, _ := status.FromError(err); st.Code() != codes.ResourceExhausted || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("oversized request: %v", err)
	}
	if _, err := m.Infer(context.Background(), textRequest("small")); err != nil {
		t.Fatalf("after an oversized request: %v", err)
	}

	// A frame header over the plugin's limit: the plugin hangs up.
	conn, err := net.Dial(c.network, c.address)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = conn.Write(c.token)
	if _, err := io.ReadFull(conn, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	_, _ = conn.Write([]byte{0xff, 0xff, 0xff, 0x7f})
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := conn.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("after a 2 GiB frame header: read %d bytes, %v; want the connection closed", n, err)
	}
}

func TestChannelRefusesAWrongToken(t *testing.T) {
	m, _ := serveV2(t, &echo{})
	c := m.(*channelClient)
	conn, err := net.Dial(c.network, c.address)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	bad := append([]byte(nil), c.token...)
	bad[0] ^= 1
	_, _ = conn.Write(bad)
	// The plugin may hang up before the call is written (EPIPE) or after
	// (EOF or ECONNRESET on the read); it must not answer.
	_, _ = writeFrame(conn, nil, &pb.ChannelCall{Request: inferRequestToProto(textRequest("x"))}, MaxMessageBytes)
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := readFrame(conn, nil, new(pb.ChannelReply), MaxMessageBytes); err != io.EOF && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("wrong token: %v, want the connection closed unanswered", err)
	}
}

func TestChannelBoundsConnectionsWithoutAToken(t *testing.T) {
	m, _ := serveV2(t, &echo{})
	c := m.(*channelClient)
	c.close() // no pooled connection: every call must dial
	c.mu.Lock()
	c.closed = false
	c.mu.Unlock()

	// channelMaxHellos connections that never present a token...
	var silent []net.Conn
	defer func() {
		for _, s := range silent {
			s.Close()
		}
	}()
	for range channelMaxHellos {
		conn, err := net.Dial(c.network, c.address)
		if err != nil {
			t.Fatal(err)
		}
		silent = append(silent, conn)
	}
	// ...then one more is closed at once, well before the 5 s hello timeout,
	waitClosed := func(conn net.Conn) error {
		_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, err := conn.Read(make([]byte, 1))
		return err
	}
	extra, err := net.Dial(c.network, c.address)
	if err != nil {
		t.Fatal(err)
	}
	if err := waitClosed(extra); err != io.EOF && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("connection over the limit: %v, want it closed at once", err)
	}
	extra.Close()
	// ...and the host's calls still succeed (over gRPC, as the channel
	// refuses new connections for now), without dialling again for a while.
	if _, err := m.Infer(context.Background(), textRequest("still here")); err != nil {
		t.Fatalf("Infer while the channel is full: %v", err)
	}
	if _, err := c.get(); err != errChannelDown {
		t.Errorf("get right after a refused dial: %v, want errChannelDown", err)
	}
	if _, err := m.Infer(context.Background(), textRequest("still here")); err != nil {
		t.Fatalf("Infer while the channel is paused: %v", err)
	}
	// Once they go away, the channel takes connections again.
	for _, s := range silent {
		s.Close()
	}
	silent = nil
	var cc *channelConn
	deadline := time.Now().Add(10 * time.Second)
	for cc == nil {
		if cc, err = c.dial(); err != nil {
			if time.Now().After(deadline) {
				t.Fatalf("dial after the silent connections closed: %v", err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	cc.c.Close()
}

// stubChannel is a Channel service that fails or points nowhere.
type stubChannel struct {
	resp *pb.ChannelOpenResponse
	err  error
}

func (s stubChannel) Open(context.Context, *pb.ChannelOpenRequest, ...grpc.CallOption) (*pb.ChannelOpenResponse, error) {
	return s.resp, s.err
}

func TestChannelFallsBackToGRPC(t *testing.T) {
	g := &grpcClient{}
	for name, ch := range map[string]stubChannel{
		"unimplemented": {err: status.Error(codes.Unimplemented, "no Channel service")},
		"unreachable":   {resp: &pb.ChannelOpenResponse{Network: "unix", Address: "@edgerun-nobody-listens", Token: make([]byte, channelTokenBytes)}},
		"no token":      {resp: &pb.ChannelOpenResponse{Network: "unix", Address: "@x"}},
	} {
		if m := openChannel(context.Background(), g, ch); m != Model(g) {
			t.Errorf("%s: got %T, want the gRPC client", name, m)
		}
	}
}

// mirrorModel answers every request with its inputs.
type mirrorModel struct{ echo }

func (*mirrorModel) Infer(_ context.Context, req *InferRequest) (*InferResponse, error) {
	if len(req.Inputs) == 0 {
		return nil, InvalidInputf("no inputs")
	}
	return &InferResponse{ID: req.ID, Outputs: req.Inputs}, nil
}

// FuzzChannelServer feeds the plugin's side of the channel arbitrary bytes
// after a valid token: it must answer only well-formed frames, each with a
// well-formed reply, never panic, and hang up when the stream ends.
// fuzz:budget 60000x
func FuzzChannelServer(f *testing.F) {
	frame := func(m *pb.ChannelCall) []byte {
		var b bytes.Buffer
		if _, err := writeFrame(&b, nil, m, MaxMessageBytes); err != nil {
			f.Fatal(err)
		}
		return b.Bytes()
	}
	good := frame(&pb.ChannelCall{Request: inferRequestToProto(textRequest("hello"))})
	f.Add(good)
	f.Add(append(append([]byte{}, good...), good...))
	f.Add(frame(&pb.ChannelCall{Request: &pb.InferRequest{}, TimeoutNs: 1}))
	f.Add(good[:len(good)-3])
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{3, 0, 0, 0, 0x0a, 0x01, 0xff})
	token := bytes.Repeat([]byte{7}, channelTokenBytes)
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &channelServer{infer: &grpcServer{impl: &mirrorModel{}}, token: token}
		host, plugin := socketPair(t)
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.serveConn(plugin)
		}()
		go func() {
			_, _ = host.Write(token)
			_, _ = host.Write(data)
			_ = host.CloseWrite() // the plugin reads EOF after data
		}()
		var buf []byte
		replies := 0
		_ = host.SetReadDeadline(time.Now().Add(10 * time.Second))
		var ack [1]byte
		if _, err := io.ReadFull(host, ack[:]); err != nil || ack[0] != channelAccepted {
			t.Fatalf("valid token: ack %v, %v", ack, err)
		}
		for {
			reply := new(pb.ChannelReply)
			var err error
			buf, err = readFrame(host, buf, reply, MaxMessageBytes)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatal("the plugin side neither answered nor hung up")
			}
			if err != nil {
				break
			}
			replies++
			if reply.GetCode() == 0 && reply.GetResponse() == nil {
				t.Fatalf("reply %d: OK without a response", replies)
			}
		}
		host.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("the plugin side did not hang up")
		}
	})
}

// socketPair returns the two ends of a connected Unix stream socket.
func socketPair(t *testing.T) (*net.UnixConn, net.Conn) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn := func(fd int) net.Conn {
		f := os.NewFile(uintptr(fd), "socketpair")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	return conn(fds[0]).(*net.UnixConn), conn(fds[1])
}
