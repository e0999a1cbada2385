package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/edgerun/edgerun/boards"
	"github.com/edgerun/edgerun/tools/edgerun/internal/pipeline"
	"github.com/edgerun/edgerun/tools/internal/cliutil"
)

// The drivers of edgerun pipeline's hardware: set by the files that link
// them (periph GPIO, the MQTT client, sensor sources). Left nil, a file
// naming such a sink checks but does not start.
var (
	pipelineGPIO    func(pipeline.GPIOSpec) (boards.Actuator, error)
	pipelineMQTT    func(pipeline.MQTTSpec) (pipeline.Publisher, error)
	pipelineSources = map[string]pipeline.SourceKind{}
)

// maxOnceDecisions bounds the decisions --once keeps for its answer.
const maxOnceDecisions = 1 << 20

type pipelineCmd struct {
	Config     string `name:"config" required:"" placeholder:"FILE" help:"Pipeline file (YAML): sample_rate, source, window, normalise, model, rule, sinks."`
	StatusAddr string `name:"status-addr" placeholder:"HOST:PORT" help:"Serve the counters as JSON at GET /status on this loopback address (127.0.0.1:0 picks a free port, logged)."`
	Once       bool   `name:"once" help:"Run a finite source to its end, then print {\"decisions\": [...], \"stats\": {...}} as JSON (stdout sinks are left out)."`
	Check      bool   `name:"check" help:"Check the file (fields, kinds, values) and exit, opening nothing."`
	LogFormat  string `name:"log-format" default:"text" enum:"text,json" help:"Log lines as text or JSON (log/slog, on standard error)."`

	// clock and ready are for tests: the pipeline's clock, and a call
	// with the status address once the pipeline runs.
	clock pipeline.Clock
	ready func(statusAddr string)
}

func (c *pipelineCmd) kinds(stdout io.Writer, log *slog.Logger) *pipeline.Kinds {
	k := pipeline.NewKinds(pipeline.Deps{Stdin: os.Stdin, Stdout: stdout, GPIO: pipelineGPIO, MQTT: pipelineMQTT, Log: log})
	for name, kind := range pipelineSources {
		k.Sources[name] = kind
	}
	return k
}

func (c *pipelineCmd) Run(env *cliutil.Env) error {
	sinkOut := env.Stdout
	if c.Once {
		sinkOut = io.Discard
	}
	var log *slog.Logger
	if c.LogFormat == "json" {
		log = slog.New(slog.NewJSONHandler(env.Stderr, nil))
	} else {
		log = slog.New(slog.NewTextHandler(env.Stderr, nil))
	}
	cfg, err := pipeline.Load(c.Config, c.kinds(sinkOut, log))
	if err != nil {
		return err
	}
	if c.Check {
		fmt.Fprintf(env.Stdout, "%s: ok (%s source at %g Hz, windows of %d hop %d, %d sinks)\n",
			c.Config, cfg.Source.Kind, cfg.SampleRate, cfg.Window.Size, cfg.Window.Hop, len(cfg.Sinks))
		return nil
	}
	var (
		mu        sync.Mutex
		decisions []pipeline.Decision
		dropped   int
	)
	opt := pipeline.Options{Clock: c.clock, Logger: log}
	if c.Once {
		opt.OnDecision = func(d pipeline.Decision) {
			mu.Lock()
			defer mu.Unlock()
			if len(decisions) < maxOnceDecisions {
				decisions = append(decisions, d)
			} else {
				dropped++
			}
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p, err := pipeline.New(ctx, cfg, opt)
	if err != nil {
		return err
	}
	addr := ""
	if c.StatusAddr != "" {
		srv, a, err := serveStatus(c.StatusAddr, p, log)
		if err != nil {
			p.Close()
			return err
		}
		defer srv.Close()
		addr = a
		log.Info("pipeline: status", "url", "http://"+addr+"/status")
	}
	if c.ready != nil {
		c.ready(addr)
	}
	if err := p.Run(ctx); err != nil {
		return err
	}
	st := p.Stats()
	enc := json.NewEncoder(env.Stdout)
	if c.Once {
		mu.Lock()
		defer mu.Unlock()
		if decisions == nil {
			decisions = []pipeline.Decision{}
		}
		out := struct {
			Decisions        []pipeline.Decision `json:"decisions"`
			DecisionsDropped int                 `json:"decisions_left_out,omitempty"`
			Stats            pipeline.Stats      `json:"stats"`
		}{decisions, dropped, st}
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	return enc.Encode(struct {
		Stats pipeline.Stats `json:"stats"`
	}{st})
}

// serveStatus serves p's counters at GET /status on a loopback address.
func serveStatus(addr string, p *pipeline.Pipeline, log *slog.Logger) (*http.Server, string, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, "", fmt.Errorf("--status-addr %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, "", fmt.Errorf("--status-addr %q: not a loopback address (127.0.0.1, ::1 or localhost)", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(p.Stats())
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("pipeline: status server", "err", err)
		}
	}()
	return srv, ln.Addr().String(), nil
}
