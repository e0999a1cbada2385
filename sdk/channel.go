package sdk

// The direct channel of protocol version 2 (see service Channel in
// sdk/proto/model.proto): Infer as one length-prefixed protobuf frame each
// way on a local stream socket, written and read by the calling goroutine.
// Describe, Health and the channel's own set-up stay on gRPC.
//
// Why: a unary gRPC call crosses four goroutines on each side (caller,
// transport writer, transport reader, handler). On this 2-vCPU machine a
// small Infer cost ~150 µs p50 that way; the same messages on a socket cost
// ~45 µs, because a goroutine blocked in read is woken by the netpoller on
// the thread that was already waiting, not handed between threads.

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/edgerun/edgerun/sdk/proto"
)

const (
	// channelTokenBytes is the length of the token a connection opens with.
	channelTokenBytes = 32
	// channelHelloTimeout bounds how long the plugin waits for a new
	// connection's token.
	channelHelloTimeout = 5 * time.Second
	// channelMaxHellos bounds the connections waiting to present their
	// token; more are closed at once, so that other local processes that
	// can reach the socket (but have no token) cannot pile up goroutines.
	channelMaxHellos = 64
	// channelAccepted is the byte the plugin answers a valid token with.
	channelAccepted = 1
	// channelRetryAfter is how long the host calls over gRPC after it
	// failed to open a channel connection, before it tries again.
	channelRetryAfter = time.Second
	// channelMaxIdle is how many idle connections the host keeps per plugin.
	channelMaxIdle = 32
	// channelKeepBuffer is the largest frame buffer kept between calls; a
	// bigger one (a large request) is dropped after its call.
	channelKeepBuffer = 1 << 20
)

// errChannelDown is get's error while dialling is paused after a failure.
var errChannelDown = errors.New("sdk: the direct channel is not taking connections")

// errFrameTooLarge is returned for a frame over the limit.
var errFrameTooLarge = errors.New("frame larger than the limit")

// writeFrame marshals m after a 4-byte length into buf and writes it in one
// call. It returns the buffer for reuse.
func writeFrame(w io.Writer, buf []byte, m proto.Message, limit int) ([]byte, error) {
	buf = append(buf[:0], 0, 0, 0, 0)
	buf, err := proto.MarshalOptions{}.MarshalAppend(buf, m)
	if err != nil {
		return buf, err
	}
	n := len(buf) - 4
	if n > limit {
		return buf, fmt.Errorf("%w (%d vs. %d bytes)", errFrameTooLarge, n, limit)
	}
	binary.LittleEndian.PutUint32(buf, uint32(n))
	_, err = w.Write(buf)
	return buf, err
}

// readFrame reads one frame into buf (grown as needed, up to limit) and
// unmarshals it into m. It returns the buffer for reuse.
func readFrame(r io.Reader, buf []byte, m proto.Message, limit int) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return buf, err
	}
	n := binary.LittleEndian.Uint32(hdr[:])
	if uint64(n) > uint64(limit) {
		return buf, fmt.Errorf("%w (%d vs. %d bytes)", errFrameTooLarge, n, limit)
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return buf, err
	}
	return buf, proto.Unmarshal(buf, m)
}

// trim drops a buffer grown by one large message.
func trim(buf []byte) []byte {
	if cap(buf) > channelKeepBuffer {
		return nil
	}
	return buf
}

// --- plugin side -----------------------------------------------------------

// channelServer serves the Channel service: on the first Open it starts a
// listener, then serves each authenticated connection with infer.
type channelServer struct {
	pb.UnimplementedChannelServer
	infer *grpcServer

	once             sync.Once
	err              error
	network, address string
	token            []byte
	hellos           chan struct{} // one per connection still to present its token
}

func (s *channelServer) Open(context.Context, *pb.ChannelOpenRequest) (*pb.ChannelOpenResponse, error) {
	s.once.Do(s.listen)
	if s.err != nil {
		// The host keeps calling Model.Infer over gRPC.
		return nil, status.Errorf(codes.Unavailable, "sdk: the plugin cannot open a direct channel: %v", s.err)
	}
	return &pb.ChannelOpenResponse{
		Network:         s.network,
		Address:         s.address,
		Token:           s.token,
		MaxMessageBytes: MaxMessageBytes,
	}, nil
}

// listen starts the channel's listener: on Linux an abstract Unix socket
// (no file, gone with the process), elsewhere a socket file in a new
// private directory. Either way a connection must present the token.
func (s *channelServer) listen() {
	var r [channelTokenBytes + 8]byte
	if _, err := rand.Read(r[:]); err != nil {
		s.err = err
		return
	}
	s.token = r[:channelTokenBytes]
	name := fmt.Sprintf("edgerun-plugin-%d-%s", os.Getpid(), hex.EncodeToString(r[channelTokenBytes:]))
	var addr string
	if runtime.GOOS == "linux" || runtime.GOOS == "android" {
		addr = "@" + name
	} else {
		dir, err := os.MkdirTemp("", "edgerun-plugin-")
		if err != nil {
			s.err = err
			return
		}
		addr = filepath.Join(dir, "channel.sock")
	}
	ln, err := net.Listen("unix", addr)
	if err != nil {
		s.err = err
		return
	}
	s.network, s.address = "unix", addr
	s.hellos = make(chan struct{}, channelMaxHellos)
	go s.accept(ln)
}

// accept serves the listener's connections. An error other than a closed
// listener (out of file descriptors, say) pauses it, from 5 ms doubling to
// a second, as net/http's server does; meanwhile the host's dials fail and
// its calls go over gRPC.
func (s *channelServer) accept(ln net.Listener) {
	var pause time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			fmt.Fprintf(os.Stderr, "sdk: direct channel: accept: %v; retrying in %v\n", err, pause)
			time.Sleep(pause)
			continue
		}
		pause = 0
		select {
		case s.hellos <- struct{}{}:
			go s.serveConn(c)
		default:
			c.Close()
		}
	}
}

// serveConn checks a connection's token, then answers its calls one at a
// time, reading each call and writing its reply on this goroutine.
// The caller has taken a place in s.hellos for it (if s.hellos is set).
func (s *channelServer) serveConn(c net.Conn) {
	defer c.Close()
	var tok [channelTokenBytes]byte
	_ = c.SetReadDeadline(time.Now().Add(channelHelloTimeout))
	_, err := io.ReadFull(c, tok[:])
	if s.hellos != nil {
		<-s.hellos
	}
	if err != nil || subtle.ConstantTimeCompare(tok[:], s.token) != 1 {
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	if _, err := c.Write([]byte{channelAccepted}); err != nil {
		return
	}

	var in, out []byte
	for {
		call := new(pb.ChannelCall)
		var err error
		in, err = readFrame(c, in, call, MaxMessageBytes)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				fmt.Fprintf(os.Stderr, "sdk: direct channel: %v\n", err)
			}
			return
		}
		in = trim(in)
		reply, ok := s.answer(c, call)
		if !ok {
			return // the host hung up during the call
		}
		out, err = writeFrame(c, out, reply, MaxMessageBytes)
		if errors.Is(err, errFrameTooLarge) {
			reply = &pb.ChannelReply{Code: uint32(codes.ResourceExhausted),
				Message: fmt.Sprintf("sdk: the plugin's response is too large to send: %v", err)}
			out, err = writeFrame(c, out, reply, MaxMessageBytes)
		}
		if err != nil {
			return
		}
		out = trim(out)
	}
}

// channelWatchAfter is how long a call runs before the plugin starts
// watching its connection for the host hanging up.
const channelWatchAfter = time.Millisecond

// answer runs one call. Nothing may arrive on the connection until the
// reply is written, so once the call has run for channelWatchAfter a
// watcher reads it: EOF (the host gave up and closed it) cancels the call.
// Short calls never start the watcher and never leave this goroutine. It
// reports false when the connection is done for.
func (s *channelServer) answer(c net.Conn, call *pb.ChannelCall) (*pb.ChannelReply, bool) {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	if ns := call.GetTimeoutNs(); ns > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeout(ctx, time.Duration(ns))
		defer stop()
	}

	var (
		mu       sync.Mutex
		finished bool // the call has returned
		watching bool // the watcher has started
		broken   bool // the watcher saw the host hang up (or misbehave)
		watched  = make(chan struct{})
	)
	timer := time.AfterFunc(channelWatchAfter, func() {
		mu.Lock()
		if finished {
			mu.Unlock()
			return
		}
		watching = true
		mu.Unlock()
		defer close(watched)
		var b [1]byte
		_, err := c.Read(b[:])
		mu.Lock()
		defer mu.Unlock()
		if finished && errors.Is(err, os.ErrDeadlineExceeded) {
			return // stopped below
		}
		broken = true
		cancel(errors.New("sdk: the host closed the channel during the call"))
	})

	resp, err := s.infer.Infer(ctx, call.GetRequest())

	timer.Stop()
	mu.Lock()
	finished = true
	started := watching
	mu.Unlock()
	if started {
		_ = c.SetReadDeadline(time.Unix(1, 0)) // end the watcher's read
		<-watched
		_ = c.SetReadDeadline(time.Time{})
	}
	if broken {
		return nil, false
	}
	reply := &pb.ChannelReply{}
	if err != nil {
		st := status.Convert(err)
		reply.Code, reply.Message = uint32(st.Code()), st.Message()
	} else {
		reply.Response = resp
	}
	return reply, true
}

// --- host side -------------------------------------------------------------

// channelClient is the host's Model of protocol version 2: Infer over the
// direct channel, the rest (and Infer, if the channel cannot be dialled)
// over gRPC.
type channelClient struct {
	*grpcClient
	network, address string
	token            []byte
	limit            int

	mu        sync.Mutex
	idle      []*channelConn
	closed    bool
	downUntil time.Time // no new connection is dialled before then
}

// channelConn is one connection of the pool, used by one call at a time.
type channelConn struct {
	c        net.Conn
	in, out  []byte
	deadline bool // a deadline is set on c
}

// openChannel asks the plugin for its channel. On any failure the host
// keeps using gRPC (g).
func openChannel(ctx context.Context, g *grpcClient, ch pb.ChannelClient) Model {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := ch.Open(ctx, &pb.ChannelOpenRequest{})
	if err != nil || len(resp.GetToken()) != channelTokenBytes {
		return g
	}
	limit := int(resp.GetMaxMessageBytes())
	if limit <= 0 || limit > MaxMessageBytes {
		limit = MaxMessageBytes
	}
	c := &channelClient{grpcClient: g, network: resp.GetNetwork(), address: resp.GetAddress(), token: resp.GetToken(), limit: limit}
	// Dial the first connection now, so a channel that cannot be reached
	// is found out here and the first call does not pay for the dial.
	cc, err := c.dial()
	if err != nil {
		return g
	}
	c.put(cc)
	return c
}

// dial opens a connection and presents the token; it fails unless the
// plugin accepts it (so a call never starts on a connection the plugin is
// about to close).
func (c *channelClient) dial() (*channelConn, error) {
	conn, err := net.DialTimeout(c.network, c.address, channelHelloTimeout)
	if err != nil {
		return nil, err
	}
	var ack [1]byte
	_ = conn.SetDeadline(time.Now().Add(channelHelloTimeout))
	if _, err = conn.Write(c.token); err == nil {
		_, err = io.ReadFull(conn, ack[:])
	}
	if err == nil && ack[0] != channelAccepted {
		err = fmt.Errorf("sdk: the plugin answered the channel's token with %#x", ack[0])
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	return &channelConn{c: conn}, nil
}

// get returns an idle connection or a new one.
func (c *channelClient) get() (*channelConn, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, net.ErrClosed
	}
	if n := len(c.idle); n > 0 {
		cc := c.idle[n-1]
		c.idle = c.idle[:n-1]
		c.mu.Unlock()
		return cc, nil
	}
	if time.Now().Before(c.downUntil) {
		c.mu.Unlock()
		return nil, errChannelDown
	}
	c.mu.Unlock()
	cc, err := c.dial()
	if err != nil {
		// Calls that need a new connection go over gRPC for a while
		// instead of each paying for a failing dial.
		c.mu.Lock()
		c.downUntil = time.Now().Add(channelRetryAfter)
		c.mu.Unlock()
	}
	return cc, err
}

// put returns a healthy connection to the pool.
func (c *channelClient) put(cc *channelConn) {
	cc.in, cc.out = trim(cc.in), trim(cc.out)
	c.mu.Lock()
	if !c.closed && len(c.idle) < channelMaxIdle {
		c.idle = append(c.idle, cc)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	cc.c.Close()
}

// close closes the pool; calls in flight end with their connections.
func (c *channelClient) close() {
	c.mu.Lock()
	idle := c.idle
	c.idle, c.closed = nil, true
	c.mu.Unlock()
	for _, cc := range idle {
		cc.c.Close()
	}
}

// Infer implements Model over the channel, with gRPC's semantics: the
// deadline reaches the plugin, cancelling ctx cancels the call in the
// plugin (its connection is closed), errors arrive as the same status.
func (c *channelClient) Infer(ctx context.Context, req *InferRequest) (*InferResponse, error) {
	if req == nil {
		return nil, InvalidInputf("sdk: nil InferRequest")
	}
	if err := ctx.Err(); err != nil {
		return nil, fromStatus(status.FromContextError(err).Err())
	}
	cc, err := c.get()
	if err != nil {
		// The channel cannot be reached (the plugin may be gone: then gRPC
		// says so as well, and the supervisor takes over).
		return c.grpcClient.Infer(ctx, req)
	}
	call := &pb.ChannelCall{Request: inferRequestToProto(req)}
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		if left <= 0 {
			c.put(cc)
			return nil, fromStatus(status.Error(codes.DeadlineExceeded, context.DeadlineExceeded.Error()))
		}
		call.TimeoutNs = int64(left)
		_ = cc.c.SetDeadline(dl)
		cc.deadline = true
	} else if cc.deadline {
		_ = cc.c.SetDeadline(time.Time{})
		cc.deadline = false
	}
	// Cancelling ctx makes the blocked write or read return at once.
	var stop func() bool
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, func() { _ = cc.c.SetDeadline(time.Unix(1, 0)) })
	}
	// release pools the connection, unless the call broke it or the
	// cancellation above has fired (or is firing) on it.
	release := func(ok bool) {
		if stop != nil && !stop() {
			ok = false
		}
		if ok {
			c.put(cc)
		} else {
			cc.c.Close() // the plugin sees the close and cancels the call
		}
	}

	cc.out, err = writeFrame(cc.c, cc.out, call, c.limit)
	if errors.Is(err, errFrameTooLarge) {
		release(true) // nothing was written
		return nil, fromStatus(status.Errorf(codes.ResourceExhausted, "sdk: request too large to send to the plugin: %v", err))
	}
	reply := new(pb.ChannelReply)
	if err == nil {
		cc.in, err = readFrame(cc.c, cc.in, reply, c.limit)
	}
	release(err == nil)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fromStatus(status.FromContextError(ctxErr).Err())
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, fromStatus(status.Error(codes.DeadlineExceeded, context.DeadlineExceeded.Error()))
		}
		return nil, fromStatus(status.Errorf(codes.Unavailable, "sdk: the plugin's direct channel broke: %v", err))
	}
	if code := codes.Code(reply.GetCode()); code != codes.OK {
		return nil, fromStatus(status.Error(code, reply.GetMessage()))
	}
	if reply.GetResponse() == nil {
		return nil, fromStatus(status.Error(codes.Internal, "sdk: the plugin's reply has no response and no error"))
	}
	return inferResponseFromProto(reply.GetResponse()), nil
}
