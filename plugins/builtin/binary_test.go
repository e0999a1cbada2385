package builtin_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/edgerun/edgerun/plugins/builtin"
	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/sdktest"
)

// TestBinaryEndToEnd builds the edgerun-plugins binary as a user does, pins
// it in a manifest and runs it through the host supervisor: every domain
// starts and describes itself, sentiment passes the conformance suite over
// the real process, the tutor does too and keeps a learner across a
// restart in the store its environment names, a SIGKILL under load costs only the calls in flight
// (each with a clear error) while the host stays up and the restarted
// plugin answers, and a tampered copy is refused before it starts.
func TestBinaryEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the edgerun-plugins binary")
	}
	bin, man := sdktest.Build(t, "github.com/edgerun/edgerun/plugins/builtin/cmd/edgerun-plugins")
	sum, _ := man.Lookup(bin)
	dir := filepath.Dir(bin)
	open := func(t *testing.T, path, domain string) (*sdk.Plugin, error) {
		p, err := sdk.Open(path, append(sdktest.Emulated(), sdk.WithManifest(man), sdk.WithArgs(domain), sdk.WithName(domain),
			sdk.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
			sdk.WithRestartPolicy(3, 10*time.Millisecond, 100*time.Millisecond))...)
		if err == nil {
			t.Cleanup(func() { _ = p.Close() })
		}
		return p, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	for _, domain := range builtin.Domains() {
		t.Run(domain, func(t *testing.T) {
			p, err := open(t, bin, domain)
			if err != nil {
				t.Fatal(err)
			}
			d, err := p.Describe(ctx)
			if err != nil || d.Domain != domain {
				t.Fatalf("Describe: %+v, %v", d, err)
			}
			if err := p.Health(ctx); err != nil {
				t.Fatal(err)
			}
			if st := p.Status(); st.Protocol != sdk.ProtocolVersion || st.Transport != "channel" {
				t.Errorf("protocol %d over %q", st.Protocol, st.Transport)
			}
		})
	}

	p, err := open(t, bin, "sentiment")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("conformance", func(t *testing.T) { sdktest.Run(t, p) })

	// The tutor's learners outlive its process with the store its
	// environment names (the host passes WithEnv on).
	t.Run("tutor_store", func(t *testing.T) {
		store := t.TempDir()
		start := func() *sdk.Plugin {
			p, err := sdk.Open(bin, append(sdktest.Emulated(), sdk.WithManifest(man), sdk.WithArgs("tutor"), sdk.WithName("tutor"),
				sdk.WithEnv("EDGERUN_TUTOR_STORE="+store), sdk.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))...)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		learner := sdk.BytesTensor("learner", "ada")
		answer := &sdk.InferRequest{Inputs: []sdk.Tensor{learner,
			{Name: "skill", Datatype: sdk.INT64, Shape: []int64{3}, INT64: []int64{1, 1, 2}},
			{Name: "correct", Datatype: sdk.INT64, Shape: []int64{3}, INT64: []int64{1, 0, 1}}}}
		read := &sdk.InferRequest{Inputs: []sdk.Tensor{learner}}
		first := start()
		want, err := first.Infer(ctx, answer)
		if err != nil {
			t.Fatal(err)
		}
		_ = first.Close()
		second := start()
		defer second.Close()
		got, err := second.Infer(ctx, read)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Outputs[0].FP32, want.Outputs[0].FP32) || got.Outputs[2].INT64[0] != 3 {
			t.Fatalf("after a restart: %+v, want %+v", got.Outputs, want.Outputs)
		}
		sdktest.Run(t, second, sdktest.WithRequests(read))
	})

	t.Run("sigkill_under_load", func(t *testing.T) {
		req := &sdk.InferRequest{Inputs: []sdk.Tensor{{Name: "text", Datatype: sdk.BYTES, Shape: []int64{1},
			BYTES: [][]byte{[]byte("The food was delicious and the staff were friendly.")}}}}
		old := p.Status().PID
		var stop atomic.Bool
		var ok, failed atomic.Int64
		errc := make(chan error, 64)
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for !stop.Load() {
					if _, err := p.Infer(ctx, req); err != nil {
						failed.Add(1)
						select {
						case errc <- err:
						default:
						}
						continue
					}
					ok.Add(1)
				}
			})
		}
		waitUntil(t, func() bool { return ok.Load() > 100 })
		if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, func() bool { st := p.Status(); return st.State == sdk.Running && st.PID != old })
		before := ok.Load()
		waitUntil(t, func() bool { return ok.Load() > before+100 })
		stop.Store(true)
		wg.Wait()
		close(errc)
		first := true
		for err := range errc {
			if !errors.Is(err, sdk.ErrUnavailable) {
				t.Errorf("a call failed with %v, want an error matching sdk.ErrUnavailable", err)
			}
			if first {
				t.Logf("a call in flight: %v", err)
				first = false
			}
		}
		if st := p.Status(); st.Restarts != 1 {
			t.Errorf("after the kill: %+v", st)
		}
		t.Logf("%d calls answered, %d failed when pid %d was killed", ok.Load(), failed.Load(), old)
	})

	t.Run("tampered", func(t *testing.T) {
		data, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		tampered := filepath.Join(dir, "copy", "edgerun-plugins")
		if err := os.MkdirAll(filepath.Dir(tampered), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(tampered, append(data, '\n'), 0o755); err != nil {
			t.Fatal(err)
		}
		m := &sdk.Manifest{Dir: filepath.Dir(tampered)}
		m.Add("edgerun-plugins", sum)
		_, err = sdk.Open(tampered, sdk.WithManifest(m), sdk.WithArgs("sentiment"),
			sdk.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
		if !errors.Is(err, sdk.ErrChecksumMismatch) {
			t.Fatalf("tampered binary: %v, want ErrChecksumMismatch", err)
		}
	})

	// Without a domain, a host gets the index of the domains it serves
	// (sdk.MultiDomain) and an Infer that says how to choose one.
	t.Run("index", func(t *testing.T) {
		p, err := sdk.Open(bin, append(sdktest.Emulated(), sdk.WithManifest(man),
			sdk.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))...)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		d, err := p.Describe(ctx)
		if err != nil || d.Domain != sdk.MultiDomain || !slices.Equal(d.Labels, builtin.Domains()) || len(d.Inputs) != 0 {
			t.Fatalf("Describe: %+v, %v", d, err)
		}
		_, err = p.Infer(ctx, &sdk.InferRequest{Inputs: []sdk.Tensor{{Name: "text", Datatype: sdk.BYTES, Shape: []int64{1}, BYTES: [][]byte{[]byte("hi")}}}})
		if err == nil || !strings.Contains(err.Error(), "start it with one as its first argument") {
			t.Fatalf("Infer: %v", err)
		}
	})

	t.Run("no_domain", func(t *testing.T) {
		_, err := open(t, bin, "weather")
		if err == nil || !strings.Contains(err.Error(), "say which plugin to serve") {
			t.Fatalf("unknown domain: %v", err)
		}
	})
}

// waitUntil polls cond for up to a minute.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within a minute")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
