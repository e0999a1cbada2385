package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/tools/edgerun/internal/serve"
	"github.com/edgerun/edgerun/tools/edgerun/internal/serve/status"
	"github.com/edgerun/edgerun/tools/internal/cliutil"
)

// serveCmd is `edgerun serve`: the gateway daemon serving every model of
// a folder and every plugin of another over the Open Inference Protocol.
type serveCmd struct {
	Models       string        `name:"models" required:"" placeholder:"DIR" help:"Folder of .erm models: each NAME.erm is the model NAME (added, replaced and removed files are picked up while serving)."`
	Plugins      string        `name:"plugins" placeholder:"DIR" help:"Folder of plugin binaries, each the model named after its file, checked against the plugins.lock beside them."`
	Addr         string        `name:"addr" default:"127.0.0.1:8080" placeholder:"HOST:PORT" help:"REST address (default loopback only; 0.0.0.0:8080 for every interface)."`
	GRPCAddr     string        `name:"grpc-addr" default:"127.0.0.1:8081" placeholder:"HOST:PORT" help:"gRPC address (KServe GRPCInferenceService); empty: no gRPC."`
	Config       string        `name:"config" placeholder:"FILE" help:"TOML file of per-model settings ([defaults] and [models.NAME]: threads, sessions, concurrency, queue, timeout, max_batch, max_queue_delay, and what a request that does not say gets: outputs, top_k)."`
	TrustedKeys  []string      `name:"trusted-key" sep:"none" placeholder:"PUB.pem" help:"Serve only .erm models signed by this public key (repeatable)."`
	TokenFile    string        `name:"token-file" placeholder:"FILE" help:"File holding a bearer token every request but the health checks and the status page's shell must carry (Authorization: Bearer TOKEN), /metrics and gRPC included."`
	LogFormat    string        `name:"log-format" default:"text" enum:"text,json" help:"Log lines as text or JSON (log/slog, on standard error)."`
	MaxBodyBytes int64         `name:"max-request-bytes" default:"67108864" placeholder:"N" help:"Refuse a request body over N bytes with 413, a gRPC message over N with RESOURCE_EXHAUSTED (default 64 MiB)."`
	Drain        time.Duration `name:"drain-timeout" default:"30s" help:"On SIGTERM or SIGINT, how long requests in flight may take to finish."`
	Rescan       time.Duration `name:"rescan" default:"10s" help:"Read the folders again this often besides file-system events (inotify is lost on some file systems)."`
	Pipelines    []string      `name:"pipeline" sep:"none" placeholder:"FILE" help:"Run this pipeline file (as edgerun pipeline reads it; its model may be serve: NAME, one of the daemon's models) for the daemon's life (repeatable). Its counters are in /metrics and at GET /v2/pipelines."`
	InsecureLock bool          `name:"insecure-lock" help:"Accept a plugins.lock that others could have written (writable by its group or others, a symbolic link, or in a world-writable directory without the sticky bit)."`

	// started, when set (tests), is called once the listeners are bound
	// and the signals are caught, with the REST address and the gRPC one
	// ("" without).
	started func(addr, grpcAddr string)
}

// loopback says whether addr binds the loopback interface only.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

func (c *serveCmd) logger(env *cliutil.Env) *slog.Logger {
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(env.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(env.Stderr, nil))
}

func (c *serveCmd) Run(env *cliutil.Env) error {
	if c.MaxBodyBytes < 1 {
		return fmt.Errorf("serve: --max-request-bytes=%d: need at least 1", c.MaxBodyBytes)
	}
	cfg := serve.DefaultConfig()
	if c.Config != "" {
		var err error
		if cfg, err = serve.ReadConfig(c.Config); err != nil {
			return fmt.Errorf("serve: %w", err)
		}
	}
	keys, err := cliutil.ReadTrustedKeys(c.TrustedKeys)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	token, err := readToken(c.TokenFile)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if fi, err := os.Stat(c.Models); err != nil || !fi.IsDir() {
		return fmt.Errorf("serve: --models %s: not a folder", c.Models)
	}
	log := c.logger(env)
	pipes, err := loadPipelines(append(slices.Clone(c.Pipelines), cfg.Pipelines...), env.Stdout, log)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	lis, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	scope := "loopback only: use --addr 0.0.0.0:PORT to serve the network"
	if !loopback(c.Addr) {
		scope = "reachable from the network"
	}
	log.Info(fmt.Sprintf("edgerun serve: REST on http://%s (%s)", lis.Addr(), scope), "addr", lis.Addr().String(), "loopback", loopback(c.Addr), "version", env.Version)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opt := serve.Options{Models: c.Models, Plugins: c.Plugins, Config: cfg, TrustedKeys: keys, Rescan: c.Rescan, Logger: log,
		PluginOptions: []sdk.Option{sdk.WithLogger(log)}}
	if c.InsecureLock {
		opt.PluginOptions = append(opt.PluginOptions, sdk.WithInsecureManifest())
	}
	tel := newTelemetry()
	tel.metrics.Registry().MustRegister(newPipelineCollector(pipes))
	opt.Hooks = tel.hooks()
	reg := serve.New(opt)
	watched := make(chan struct{})
	go func() { reg.Run(ctx); close(watched) }()

	// The REST API (its own token rule: health is public), the metrics
	// behind the token, and the status page (its shell public, its data
	// behind the token).
	mux := http.NewServeMux()
	rest := serve.NewHandler(reg, serve.HandlerOptions{Token: token, MaxBodyBytes: c.MaxBodyBytes, Version: env.Version, Logger: log})
	mux.Handle("/v2", rest)
	mux.Handle("/v2/", rest)
	mux.Handle("GET /metrics", serve.RequireToken(token, tel.metricsHandler(reg)))
	mux.Handle("GET /v2/pipelines", serve.RequireToken(token, pipes.handler()))
	mux.Handle("/", status.New(reg, status.Options{Stats: tel.window, Token: token}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	failed := make(chan error, 2)
	go func() {
		if err := srv.Serve(lis); !errors.Is(err, http.ErrServerClosed) {
			failed <- fmt.Errorf("REST: %w", err)
		}
	}()
	var grpcStop func(context.Context)
	grpcAddr := ""
	if c.GRPCAddr != "" {
		glis, err := net.Listen("tcp", c.GRPCAddr)
		if err != nil {
			stop()
			_ = srv.Close()
			<-watched
			_ = reg.Close(context.Background())
			sdk.CloseAll()
			return fmt.Errorf("serve: %w", err)
		}
		run, gstop := grpcFront(glis, reg, serve.GRPCOptions{Token: token, MaxRecvMsgSize: int(min(c.MaxBodyBytes, math.MaxInt32)),
			Version: env.Version, Extensions: serve.Extensions(), Logger: log})
		grpcStop, grpcAddr = gstop, glis.Addr().String()
		log.Info(fmt.Sprintf("edgerun serve: gRPC on %s", glis.Addr()), "addr", glis.Addr().String(), "loopback", loopback(c.GRPCAddr))
		go func() {
			if err := run(); err != nil {
				failed <- fmt.Errorf("gRPC: %w", err)
			}
		}()
	}
	pipes.start(ctx, reg, log)
	readyDone := make(chan struct{})
	go func() { notifyReady(ctx, reg, 50*time.Millisecond, log); close(readyDone) }()
	if c.started != nil {
		c.started(lis.Addr().String(), grpcAddr)
	}

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("edgerun serve: shutting down: no new requests; draining those in flight", "deadline", c.Drain)
	case runErr = <-failed:
		log.Error("edgerun serve: a front end failed; shutting down", "err", runErr)
	}
	stop()
	<-readyDone
	if _, err := serve.Notify("STOPPING=1"); err != nil {
		log.Warn("edgerun serve: sd_notify", "err", err)
	}
	dctx, cancel := context.WithTimeout(context.Background(), c.Drain)
	defer cancel()
	// Stop accepting first (the registry refuses what still arrives), then
	// drain the front ends and the registry, then close the plugins.
	var errs []error
	if grpcStop != nil {
		grpcStop(dctx)
	}
	if err := srv.Shutdown(dctx); err != nil {
		errs = append(errs, fmt.Errorf("REST drain: %w", err))
	}
	pipes.wait() // stopped with ctx: their sinks closed, before the models they use
	if err := reg.Close(dctx); err != nil {
		errs = append(errs, err)
	}
	<-watched
	sdk.CloseAll()
	if runErr != nil {
		return fmt.Errorf("serve: %w", runErr)
	}
	if err := errors.Join(errs...); err != nil {
		log.Warn("edgerun serve: stopped before every request finished", "err", err)
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("edgerun serve: stopped")
	return nil
}

// readToken reads the bearer token of --token-file: its one line, which
// must not be empty.
func readToken(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" || strings.ContainsAny(tok, " \t\r\n") {
		return "", fmt.Errorf("--token-file %s: want one token, no spaces", path)
	}
	return tok, nil
}
