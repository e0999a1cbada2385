package serve

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/sdk"
)

// builtin is a model file of the repository's built-in plugins.
func builtin(name string) string {
	return filepath.Join("..", "..", "..", "..", "plugins", "builtin", name, "model.erm")
}

// put copies the built-in model src into dir as name.erm the way an
// atomic writer does: a temporary file, then a rename over the old one.
func put(t *testing.T, dir, name, src string) {
	t.Helper()
	b, err := os.ReadFile(builtin(src))
	if err != nil {
		t.Fatal(err)
	}
	putBytes(t, dir, name, b)
}

func putBytes(t *testing.T, dir, name string, b []byte) {
	t.Helper()
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name+".erm")); err != nil {
		t.Fatal(err)
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// gate is a Hooks.Wrap that holds every request of a model until open is
// closed, telling entered when one is held.
type gate struct {
	open    chan struct{}
	entered chan string // the version held
}

func newGate() *gate { return &gate{open: make(chan struct{}), entered: make(chan string, 16)} }

type gated struct {
	sdk.Model
	g       *gate
	version string
}

func (m *gated) Infer(ctx context.Context, req *sdk.InferRequest) (*sdk.InferResponse, error) {
	m.g.entered <- m.version
	select {
	case <-m.g.open:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return m.Model.Infer(ctx, req)
}

func (g *gate) wrap(info ModelInfo, m sdk.Model) sdk.Model {
	return &gated{Model: m, g: g, version: info.Version}
}

func textRequest(texts ...string) *sdk.InferRequest {
	return &sdk.InferRequest{Inputs: []sdk.Tensor{sdk.BytesTensor(TextInput, texts...)}}
}

func newReg(t *testing.T, opt Options) *Reg {
	t.Helper()
	opt.Logger = quiet()
	r := New(opt)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = r.Close(ctx)
	})
	return r
}

func TestRegistryLoadsERM(t *testing.T) {
	dir := t.TempDir()
	put(t, dir, "sentiment", "sentiment")
	put(t, dir, "risk", "risk")
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := newReg(t, Options{Models: dir})
	if r.Ready() {
		t.Error("ready before the first scan")
	}
	r.Scan()
	if !r.Ready() || !r.Live() {
		t.Fatalf("ready %v live %v after the scan", r.Ready(), r.Live())
	}
	ms := r.Models()
	if len(ms) != 2 || ms[0].Name != "risk" || ms[1].Name != "sentiment" {
		t.Fatalf("models %+v, want risk and sentiment", ms)
	}
	s := ms[1]
	if s.State != StateReady || s.Platform != PlatformERM || len(s.Version) != 12 || s.Desc == nil || s.Kernel == "" || s.Weights == "" {
		t.Errorf("sentiment info %+v", s)
	}
	if len(s.Desc.Inputs) != 1 || s.Desc.Inputs[0].Name != TextInput || s.Desc.Inputs[0].Datatype != sdk.BYTES {
		t.Errorf("sentiment inputs %+v, want BYTES text", s.Desc.Inputs)
	}
	if len(ms[0].Desc.Inputs) < 2 {
		t.Errorf("risk inputs %+v, want one per named feature", ms[0].Desc.Inputs)
	}
	resp, err := r.Infer(context.Background(), "sentiment", "", textRequest("great phone, works perfectly", "a total waste of money"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.ModelName != "sentiment" || resp.ModelVersion != s.Version {
		t.Errorf("answered by %s %s, want sentiment %s", resp.ModelName, resp.ModelVersion, s.Version)
	}
	var label *sdk.Tensor
	for i := range resp.Outputs {
		if resp.Outputs[i].Name == "label" {
			label = &resp.Outputs[i]
		}
	}
	if label == nil || len(label.BYTES) != 2 || string(label.BYTES[0]) == "" {
		t.Fatalf("outputs %+v, want a label per text", resp.Outputs)
	}
	for _, tc := range []struct {
		name, version string
		want          error
	}{
		{"nope", "", ErrNotFound},
		{"sentiment", "0000", ErrNotFound},
	} {
		if _, err := r.Infer(context.Background(), tc.name, tc.version, textRequest("x")); !errors.Is(err, tc.want) {
			t.Errorf("%s %s: %v, want %v", tc.name, tc.version, err, tc.want)
		}
	}
	if _, err := r.Infer(context.Background(), "sentiment", "", &sdk.InferRequest{}); !errors.Is(err, sdk.ErrInvalidInput) {
		t.Errorf("no input: %v, want invalid input", err)
	}
}

// TestHotSwap: a replaced file serves its new version; a request in
// flight ends on the old one; a corrupt or truncated replacement is
// refused and the old version keeps serving; added and removed files add
// and remove models.
func TestHotSwap(t *testing.T) {
	dir := t.TempDir()
	put(t, dir, "m", "sentiment")
	g := newGate()
	r := newReg(t, Options{Models: dir, Hooks: Hooks{Wrap: g.wrap}})
	r.Scan()
	old, err := r.Model("m", "")
	if err != nil {
		t.Fatal(err)
	}
	// A request held in flight on the old version.
	type result struct {
		resp *sdk.InferResponse
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := r.Infer(context.Background(), "m", "", textRequest("great"))
		done <- result{resp, err}
	}()
	if v := <-g.entered; v != old.Version {
		t.Fatalf("held on %s, want %s", v, old.Version)
	}
	put(t, dir, "m", "intent")
	r.Scan()
	cur, _ := r.Model("m", "")
	if cur.Version == old.Version || cur.State != StateReady || cur.Err != "" {
		t.Fatalf("after the swap: %+v, want a new version ready", cur)
	}
	close(g.open)
	res := <-done
	if res.err != nil || res.resp.ModelVersion != old.Version {
		t.Fatalf("request in flight: %v, version %v; want the old version's answer", res.err, res.resp)
	}
	resp, err := r.Infer(context.Background(), "m", "", textRequest("set an alarm for 7"))
	if err != nil || resp.ModelVersion != cur.Version {
		t.Fatalf("after the swap: %v %+v, want version %s", err, resp, cur.Version)
	}
	if _, err := r.Infer(context.Background(), "m", old.Version, textRequest("x")); !errors.Is(err, ErrNotFound) {
		t.Errorf("old version asked for: %v, want not found", err)
	}

	// Truncated, then garbage: refused, the current version keeps serving.
	good, err := os.ReadFile(builtin("sentiment"))
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]byte{good[:len(good)/2], []byte("definitely not a model")} {
		putBytes(t, dir, "m", bad)
		r.Scan()
		now, _ := r.Model("m", "")
		if now.Version != cur.Version || now.State != StateReady || now.Err == "" {
			t.Fatalf("corrupt replacement: %+v, want version %s still ready with the reason", now, cur.Version)
		}
		if _, err := r.Infer(context.Background(), "m", "", textRequest("wake me up at 6")); err != nil {
			t.Fatalf("old version after a refused one: %v", err)
		}
	}

	// Added, removed.
	put(t, dir, "n", "sentiment")
	r.Scan()
	if _, err := r.Model("n", ""); err != nil {
		t.Fatalf("added: %v", err)
	}
	if err := os.Remove(filepath.Join(dir, "m.erm")); err != nil {
		t.Fatal(err)
	}
	r.Scan()
	if _, err := r.Model("m", ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removed: %v, want not found", err)
	}
	if _, err := r.Infer(context.Background(), "m", "", textRequest("x")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removed: %v, want not found", err)
	}
}

// TestTrustedKey: with trusted keys an unsigned model is refused (failed,
// 503 with the reason) and a signed one serves.
func TestTrustedKey(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	put(t, dir, "s", "sentiment")
	r := newReg(t, Options{Models: dir, TrustedKeys: []ed25519.PublicKey{pub}})
	r.Scan()
	info, _ := r.Model("s", "")
	if info.State != StateFailed || !strings.Contains(info.Err, "sign") {
		t.Fatalf("unsigned: %+v, want failed for want of a signature", info)
	}
	if _, err := r.Infer(context.Background(), "s", "", textRequest("great")); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("unsigned: %v, want unavailable", err)
	}
	if !r.Ready() {
		t.Error("a failed model counts as settled: want ready")
	}
	fm, err := format.ReadFile(builtin("sentiment"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, ".s.tmp")
	if err := format.WriteFile(tmp, fm, format.WithSigningKey(priv)); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "s.erm")); err != nil {
		t.Fatal(err)
	}
	r.Scan()
	if info, _ := r.Model("s", ""); info.State != StateReady || info.Err != "" {
		t.Fatalf("signed: %+v, want ready", info)
	}
}

// TestQueueFull: with one request in flight and a queue of one waiting,
// the next is refused with ErrQueueFull, and both others are answered.
func TestQueueFull(t *testing.T) {
	dir := t.TempDir()
	put(t, dir, "s", "sentiment")
	cfg := DefaultConfig()
	cfg.Defaults.Concurrency, cfg.Defaults.Queue = 1, 1
	g := newGate()
	obs := &countObserver{}
	r := newReg(t, Options{Models: dir, Config: cfg, Hooks: Hooks{Wrap: g.wrap, Observer: obs}})
	r.Scan()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := r.Infer(context.Background(), "s", "", textRequest("great"))
			errs <- err
		}()
	}
	<-g.entered // one in flight; wait for the other to queue
	for obs.queued() < 1 {
		time.Sleep(time.Millisecond)
	}
	_, err := r.Infer(context.Background(), "s", "", textRequest("great"))
	if !errors.Is(err, ErrQueueFull) {
		t.Fatalf("third request: %v, want queue full", err)
	}
	if st, _ := Status(err); st != 429 {
		t.Errorf("status %d, want 429", st)
	}
	close(g.open)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("request in flight or queued: %v", err)
		}
	}
}

// TestBatchedModelLetsInMaxBatch: a batched .erm model lets Concurrency
// × MaxBatch requests in at once (a run carries up to MaxBatch of them:
// the batcher must have them to gather them); the next is ErrQueueFull.
func TestBatchedModelLetsInMaxBatch(t *testing.T) {
	dir := t.TempDir()
	put(t, dir, "s", "sentiment")
	cfg := DefaultConfig()
	cfg.Defaults.Concurrency, cfg.Defaults.Queue, cfg.Defaults.MaxBatch = 1, 0, 3
	g := newGate()
	r := newReg(t, Options{Models: dir, Config: cfg, Hooks: Hooks{Wrap: g.wrap}})
	r.Scan()
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Go(func() {
			_, err := r.Infer(context.Background(), "s", "", textRequest("great"))
			errs <- err
		})
	}
	for range 3 {
		<-g.entered // all three in flight at once
	}
	if _, err := r.Infer(context.Background(), "s", "", textRequest("great")); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("fourth request: %v, want queue full", err)
	}
	close(g.open)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("request in flight: %v", err)
		}
	}
}

type countObserver struct {
	mu    sync.Mutex
	queue int
	reqs  int
}

func (o *countObserver) Request(string, string, error, time.Duration) {
	o.mu.Lock()
	o.reqs++
	o.mu.Unlock()
}

func (o *countObserver) Queue(_ string, n int) {
	o.mu.Lock()
	o.queue = n
	o.mu.Unlock()
}

func (o *countObserver) Load(string, time.Duration, error) {}

func (o *countObserver) queued() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.queue
}

// TestCloseDrains: Close refuses new requests, lets those in flight
// finish, then closes the models.
func TestCloseDrains(t *testing.T) {
	dir := t.TempDir()
	put(t, dir, "s", "sentiment")
	g := newGate()
	r := New(Options{Models: dir, Logger: quiet(), Hooks: Hooks{Wrap: g.wrap}})
	r.Scan()
	done := make(chan error, 1)
	go func() {
		_, err := r.Infer(context.Background(), "s", "", textRequest("great"))
		done <- err
	}()
	<-g.entered
	closed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		closed <- r.Close(ctx)
	}()
	for !r.isClosing() {
		time.Sleep(time.Millisecond)
	}
	if _, err := r.Infer(context.Background(), "s", "", textRequest("great")); !errors.Is(err, ErrShuttingDown) {
		t.Fatalf("during the drain: %v, want shutting down", err)
	}
	if r.Ready() {
		t.Error("ready while draining")
	}
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) with a request in flight", err)
	default:
	}
	close(g.open)
	if err := <-done; err != nil {
		t.Fatalf("request in flight: %v", err)
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if r.Live() {
		t.Error("live after Close")
	}
}

// TestWatch: Run notices a file added to the folder (fsnotify, or the
// rescan).
func TestWatch(t *testing.T) {
	dir := t.TempDir()
	r := newReg(t, Options{Models: dir, Rescan: time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { r.Run(ctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()
	for !r.Ready() {
		time.Sleep(time.Millisecond)
	}
	put(t, dir, "s", "sentiment")
	deadline := time.Now().Add(time.Minute) // a safety net only
	for {
		if info, err := r.Model("s", ""); err == nil && info.State == StateReady {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the added model never loaded")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRescan: without fsnotify the periodic rescan finds a replaced file
// (inotify is lost on some file systems).
func TestRescan(t *testing.T) {
	dir := t.TempDir()
	put(t, dir, "s", "sentiment")
	r := newReg(t, Options{Models: dir, Rescan: 20 * time.Millisecond, NoNotify: true})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { r.Run(ctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()
	for !r.Ready() {
		time.Sleep(time.Millisecond)
	}
	old, _ := r.Model("s", "")
	put(t, dir, "s", "intent")
	deadline := time.Now().Add(time.Minute) // a safety net only
	for {
		if info, _ := r.Model("s", ""); info.Version != old.Version && info.State == StateReady {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the replaced model never loaded")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
