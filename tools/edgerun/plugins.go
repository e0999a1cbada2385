package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/format/atomicfile"
	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/tools/edgerun/internal/serve"
	"github.com/edgerun/edgerun/tools/internal/cliutil"
	"github.com/edgerun/edgerun/tools/internal/oip"
)

// pluginsCmd is `edgerun plugins`: run domain-model plugins from the
// command line, through the same supervisor a host uses (checksum against
// the manifest first, then go-plugin with AutoMTLS).
type pluginsCmd struct {
	List     pluginsListCmd     `cmd:"" help:"List the plugin binaries in a directory, with their manifest status (and, with --describe, what each serves)."`
	Describe pluginsDescribeCmd `cmd:"" help:"Start a plugin and print its description: domain, inputs, outputs, labels, parameters."`
	Infer    pluginsInferCmd    `cmd:"" help:"Start a plugin and send it one request."`
	Lock     pluginsLockCmd     `cmd:"" help:"Write or update the manifest (plugins.lock: SHA-256 of each binary) beside plugin binaries."`
}

// pluginFlags are how a plugin is found and trusted.
type pluginFlags struct {
	Manifest     string        `name:"manifest" placeholder:"FILE" help:"Manifest with the binaries' SHA-256 (default: plugins.lock beside the binary)."`
	Insecure     bool          `name:"insecure" help:"Start the binary without checking its checksum (development only)."`
	InsecureLock bool          `name:"insecure-lock" help:"Accept a manifest that others could have written (writable by its group or others, a symbolic link, or in a world-writable directory without the sticky bit), e.g. on a file system without Unix permissions."`
	Timeout      time.Duration `name:"timeout" default:"10s" help:"Handshake and request timeout."`
	Args         []string      `name:"plugin-arg" placeholder:"ARG" help:"Argument for the plugin binary (repeatable), e.g. the domain of the multi-plugin binary: --plugin-arg sentiment."`
	Launcher     string        `name:"launcher" placeholder:"CMD" help:"Start the plugin through this command, e.g. 'qemu-aarch64-static' for an arm64 plugin on an x86 host, or 'nice -n 10' (words split at spaces; the binary's checksum is still checked first and the launcher is given the pinned binary)."`
}

func (f *pluginFlags) open(path string, stderr io.Writer) (*sdk.Plugin, error) {
	// Only warnings from the supervisor: a one-shot command needs no
	// "started"/"closed" lines; the plugin's own stderr still comes through.
	quiet := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	opts := []sdk.Option{sdk.WithStartTimeout(f.Timeout), sdk.WithStderr(stderr), sdk.WithLogger(quiet), sdk.WithRestartPolicy(0, 0, 0)}
	if len(f.Args) > 0 {
		opts = append(opts, sdk.WithArgs(f.Args...))
	}
	switch {
	case f.Insecure:
		opts = append(opts, sdk.WithoutVerification())
	case f.Manifest != "":
		opts = append(opts, sdk.WithManifestFile(f.Manifest))
	}
	if f.InsecureLock {
		opts = append(opts, sdk.WithInsecureManifest())
	}
	if l := strings.Fields(f.Launcher); len(l) > 0 {
		opts = append(opts, sdk.WithLauncher(l...))
	}
	p, err := sdk.Open(path, opts...)
	return p, lockHint(err, path)
}

// lockHint adds what to do about a plugin refused by its manifest: pin it
// with `edgerun plugins lock` (a rebuilt binary has a new checksum).
func lockHint(err error, path string) error {
	switch {
	case errors.Is(err, sdk.ErrNoManifest), errors.Is(err, sdk.ErrNotInManifest):
		return fmt.Errorf("%w (pin it first: edgerun plugins lock %s)", err, path)
	case errors.Is(err, sdk.ErrChecksumMismatch):
		return fmt.Errorf("%w (if you rebuilt or replaced it on purpose, pin the new binary: edgerun plugins lock %s)", err, path)
	}
	return err
}

// timeoutHint says which timeout ended a call that ctx cut short.
func timeoutHint(ctx context.Context, err error, timeout time.Duration) error {
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("no answer within --timeout %s, which covers starting the plugin and the request (raise it, e.g. --timeout %s): %w", timeout, 3*timeout, err)
	}
	return err
}

// closePlugins closes every plugin (sdk.CloseAll: each with its process
// group, and those still starting) when the command ends, and also when
// SIGINT or SIGTERM ends it first: a plugin runs in a process group of its
// own, so a terminal's Ctrl-C reaches only edgerun. On a signal it then
// calls exit with 128 + the signal's number. Call the returned func when
// the command ends.
func closePlugins(exit func(int)) func() {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			sdk.CloseAll()
			n := 1
			if sig, ok := s.(syscall.Signal); ok {
				n = int(sig)
			}
			exit(128 + n)
		case <-done:
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
		sdk.CloseAll()
	}
}

// readManifest reads a manifest, checking who could have written it unless
// insecure.
func readManifest(path string, insecure bool) (*sdk.Manifest, error) {
	if insecure {
		return sdk.ReadManifestInsecure(path)
	}
	return sdk.ReadManifest(path)
}

// describe starts the plugin at path and asks for its description.
func (f *pluginFlags) describe(ctx context.Context, path string, stderr io.Writer) (*sdk.Plugin, *sdk.Description, error) {
	p, err := f.open(path, stderr)
	if err != nil {
		return nil, nil, err
	}
	d, err := p.Describe(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, d, nil
}

type pluginsDescribeCmd struct {
	Plugin string `arg:"" placeholder:"PLUGIN" help:"Plugin binary."`
	pluginFlags
	JSON bool `name:"json" help:"Print the description as JSON."`
}

func (c *pluginsDescribeCmd) Run(env *cliutil.Env) error {
	defer closePlugins(os.Exit)()
	ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
	defer cancel()
	_, d, err := c.describe(ctx, c.Plugin, env.Stderr)
	if err != nil {
		return fmt.Errorf("plugins describe: %w", err)
	}
	if c.JSON {
		return cliutil.WriteJSON(env.Stdout, describeJSON(d))
	}
	writeDescription(env.Stdout, d)
	return nil
}

type specJSON struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
	// Categories are the values a categorical input takes (none: any).
	Categories []string `json:"categories,omitempty"`
	// Optional inputs may be left out of a request (the plugin says which
	// combinations it takes).
	Optional bool `json:"optional,omitempty"`
}

type descJSON struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Domain  string `json:"domain"`
	// Domains, for a binary serving several (sdk.MultiDomain), are those
	// it serves, each chosen with --plugin-arg DOMAIN.
	Domains    []string          `json:"domains,omitempty"`
	Summary    string            `json:"summary,omitempty"`
	Inputs     []specJSON        `json:"inputs"`
	Outputs    []specJSON        `json:"outputs"`
	Labels     []string          `json:"labels,omitempty"`
	Parameters map[string]string `json:"parameters,omitempty"`
	Provenance string            `json:"provenance,omitempty"`
}

func describeJSON(d *sdk.Description) descJSON {
	specs := func(s []sdk.TensorSpec) []specJSON {
		out := make([]specJSON, len(s))
		for i, t := range s {
			out[i] = specJSON{t.Name, t.Datatype, t.Shape, t.Categories, t.Optional}
		}
		return out
	}
	out := descJSON{Name: d.Name, Version: d.Version, Domain: d.Domain, Summary: d.Summary, Inputs: specs(d.Inputs), Outputs: specs(d.Outputs),
		Labels: d.Labels, Parameters: d.Parameters, Provenance: d.Provenance}
	if d.Domain == sdk.MultiDomain {
		out.Domains, out.Labels = d.Labels, nil
	}
	return out
}

func writeDescription(w io.Writer, d *sdk.Description) {
	fmt.Fprintf(w, "name        %s %s\n", d.Name, d.Version)
	if d.Domain == sdk.MultiDomain {
		fmt.Fprintf(w, "domains     %s (one binary serving several: choose one with --plugin-arg DOMAIN)\n", strings.Join(d.Labels, ", "))
	} else {
		fmt.Fprintf(w, "domain      %s\n", d.Domain)
	}
	if d.Summary != "" {
		fmt.Fprintf(w, "summary     %s\n", d.Summary)
	}
	if d.Provenance != "" {
		fmt.Fprintf(w, "provenance  %s\n", d.Provenance)
	}
	for _, s := range d.Inputs {
		fmt.Fprintf(w, "input       %s  %s  %v", s.Name, s.Datatype, s.Shape)
		if s.Optional {
			fmt.Fprint(w, "  (optional)")
		}
		if len(s.Categories) > 0 {
			fmt.Fprintf(w, "  one of: %s", strings.Join(s.Categories, ", "))
		}
		fmt.Fprintln(w)
	}
	for _, s := range d.Outputs {
		fmt.Fprintf(w, "output      %s  %s  %v\n", s.Name, s.Datatype, s.Shape)
	}
	if len(d.Labels) > 0 && d.Domain != sdk.MultiDomain {
		l := d.Labels
		more := ""
		if len(l) > 12 {
			l, more = l[:12], fmt.Sprintf(" … (%d in all)", len(d.Labels))
		}
		fmt.Fprintf(w, "labels      %s%s\n", strings.Join(l, ", "), more)
	}
	keys := make([]string, 0, len(d.Parameters))
	for k := range d.Parameters {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "parameter   %s: %s\n", k, d.Parameters[k])
	}
}

type pluginsInferCmd struct {
	Plugin string `arg:"" placeholder:"PLUGIN" help:"Plugin binary."`
	pluginFlags
	Text  string            `name:"text" xor:"input" placeholder:"STRING" help:"Text for the plugin's BYTES input."`
	Input string            `name:"input" short:"i" xor:"input" placeholder:"FILE" help:"Request as Open Inference Protocol JSON ({\"inputs\":[{\"name\",\"datatype\",\"shape\",\"data\"}],\"outputs\":[{\"name\"}],\"parameters\":{}}), read as run reads it; data flat or nested; null, \"NaN\", \"NA\" sent as NaN in FP32 data. - reads standard input."`
	CSV   string            `name:"csv" xor:"input" placeholder:"FILE" help:"CSV table, one row per request row, one column per input named like it (header optional: without one, the inputs in the description's order); all rows in one request; numbers (missing: NaN), categories by name (missing: \"NA\"), ids, text; an unknown category or a missing column is an error, as in run --csv. - reads standard input."`
	Set   map[string]string `name:"set" placeholder:"NAME=VALUE" help:"One value for the input NAME (repeatable), converted to the input's datatype: named tabular features, a user id."`
	Param map[string]string `name:"param" placeholder:"KEY=VALUE" help:"Request parameter (repeatable), e.g. top_k=3."`
	JSON  bool              `name:"json" help:"Print the response as Open Inference Protocol JSON."`

	MaxRequestBytes int64 `name:"max-request-bytes" default:"67108864" placeholder:"N" help:"Refuse an --input request or --csv table larger than N bytes (default 64 MiB)."`
}

func (c *pluginsInferCmd) Run(env *cliutil.Env) error {
	defer closePlugins(os.Exit)()
	if c.MaxRequestBytes < 1 {
		return fmt.Errorf("plugins infer: --max-request-bytes=%d: need at least 1", c.MaxRequestBytes)
	}
	// The request is read and checked before the plugin starts.
	var fromFile *oip.Request
	if c.Input != "" {
		var err error
		if fromFile, err = c.readRequest(); err != nil {
			return fmt.Errorf("plugins infer: %w", err)
		}
	}
	var table *csvSource
	if c.CSV != "" {
		var err error
		if table, err = c.openCSV(); err != nil {
			return fmt.Errorf("plugins infer: %w", err)
		}
		defer table.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
	defer cancel()
	p, d, err := c.describe(ctx, c.Plugin, env.Stderr)
	if err != nil {
		return fmt.Errorf("plugins infer: %w", err)
	}
	if d.Domain == sdk.MultiDomain {
		return fmt.Errorf("plugins infer: %s serves several domains (%s): choose one with --plugin-arg DOMAIN", c.Plugin, strings.Join(d.Labels, ", "))
	}
	var req *sdk.InferRequest
	if table != nil {
		req, err = c.csvRequest(d, table)
	} else {
		req, err = c.request(d, fromFile)
	}
	if err != nil {
		return fmt.Errorf("plugins infer: %w", err)
	}
	start := time.Now()
	res, err := p.Infer(ctx, req)
	if err != nil {
		return fmt.Errorf("plugins infer: %s: %w", d.Name, timeoutHint(ctx, err, c.Timeout))
	}
	took := time.Since(start)
	if c.JSON {
		return oip.WriteResponse(env.Stdout, serve.ResponseOIP(res), nil)
	}
	for _, t := range res.Outputs {
		fmt.Fprintf(env.Stdout, "%s  %s  %v\n  %s\n", t.Name, t.Datatype, t.Shape, tensorText(&t))
	}
	keys := make([]string, 0, len(res.Parameters))
	for k := range res.Parameters {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(env.Stdout, "%s: %s\n", k, res.Parameters[k])
	}
	_, err = fmt.Fprintf(env.Stdout, "(%s %s, round trip %s)\n", res.ModelName, res.ModelVersion, took.Round(time.Microsecond))
	return err
}

// readRequest reads and decodes --input, at most --max-request-bytes of
// it (tools/internal/oip: the same codec as run's).
func (c *pluginsInferCmd) readRequest() (*oip.Request, error) {
	f, name, err := openInput(c.Input)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	lim := oip.Limits{Bytes: c.MaxRequestBytes, Elements: int(format.DefaultMaxElements), Flag: maxRequestFlag}
	req, err := oip.Decode(f, oip.Options{Limits: lim})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return req, nil
}

// request builds the request from the flags and the plugin's
// description; fromFile is --input's request, read by readRequest.
func (c *pluginsInferCmd) request(d *sdk.Description, fromFile *oip.Request) (*sdk.InferRequest, error) {
	req := &sdk.InferRequest{Parameters: c.Param}
	switch {
	case fromFile != nil:
		var err error
		if req, err = serve.RequestFromOIP(d, fromFile); err != nil {
			return nil, err
		}
		for k, v := range c.Param {
			if req.Parameters == nil {
				req.Parameters = map[string]string{}
			}
			req.Parameters[k] = v
		}
	case c.Text != "":
		var in *sdk.TensorSpec
		for i := range d.Inputs {
			if d.Inputs[i].Datatype == sdk.BYTES {
				in = &d.Inputs[i]
				break
			}
		}
		if in == nil {
			return nil, fmt.Errorf("%s takes no text (inputs: %s); use --set or --input", d.Name, specNames(d.Inputs))
		}
		req.Inputs = append(req.Inputs, sdk.Tensor{Name: in.Name, Datatype: sdk.BYTES, Shape: textShape(in.Shape), BYTES: [][]byte{[]byte(c.Text)}})
	}
	names := make([]string, 0, len(c.Set))
	for k := range c.Set {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		var spec *sdk.TensorSpec
		for i := range d.Inputs {
			if d.Inputs[i].Name == name {
				spec = &d.Inputs[i]
			}
		}
		if spec == nil {
			return nil, fmt.Errorf("%s has no input %q (inputs: %s)", d.Name, name, specNames(d.Inputs))
		}
		t, err := scalarTensor(*spec, c.Set[name])
		if err != nil {
			return nil, err
		}
		req.Inputs = append(req.Inputs, t)
	}
	if len(req.Inputs) == 0 {
		return nil, errors.New("no input: give --text, --set NAME=VALUE, --input FILE or --csv FILE")
	}
	var lacks []string
	for _, s := range d.Inputs {
		if req.Input(s.Name) == nil && !s.Optional {
			lacks = append(lacks, s.Name)
		}
	}
	if len(lacks) > 0 {
		return nil, fmt.Errorf("%s: %d of its %d inputs missing: %s", d.Name, len(lacks), len(d.Inputs), oip.QuoteList(lacks, len(lacks)))
	}
	return req, nil
}

// textShape is [1] or the spec's shape with its dynamic dimensions at 1.
func textShape(spec []int64) []int64 {
	if len(spec) == 0 {
		return []int64{1}
	}
	out := make([]int64, len(spec))
	for i, d := range spec {
		out[i] = max(d, 1)
	}
	return out
}

// scalarTensor is one value of an input, shaped as its spec with every
// dimension 1.
func scalarTensor(spec sdk.TensorSpec, v string) (sdk.Tensor, error) {
	t := sdk.Tensor{Name: spec.Name, Datatype: spec.Datatype, Shape: textShape(spec.Shape)}
	bad := func(err error) (sdk.Tensor, error) {
		return t, fmt.Errorf("input %s (%s): %q: %v", spec.Name, spec.Datatype, v, err)
	}
	switch spec.Datatype {
	case sdk.FP32:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 32)
		if err != nil {
			return bad(err)
		}
		t.FP32 = []float32{float32(f)}
	case sdk.INT64:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return bad(err)
		}
		t.INT64 = []int64{n}
	case sdk.INT32:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
		if err != nil {
			return bad(err)
		}
		t.INT32 = []int32{int32(n)}
	case sdk.BOOL:
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return bad(err)
		}
		t.BOOL = []bool{b}
	default:
		t.BYTES = [][]byte{[]byte(v)}
	}
	return t, nil
}

func specNames(s []sdk.TensorSpec) string {
	var n []string
	for _, t := range s {
		n = append(n, t.Name+" "+t.Datatype)
	}
	return strings.Join(n, ", ")
}

// tensorText prints a tensor's data, the first 16 values of a long one.
func tensorText(t *sdk.Tensor) string {
	const show = 16
	if n := t.Len(); n > show {
		c := *t
		c.FP32, c.INT64, c.INT32, c.BOOL, c.BYTES = head(t.FP32, show), head(t.INT64, show), head(t.INT32, show), head(t.BOOL, show), head(t.BYTES, show)
		return tensorValues(&c) + fmt.Sprintf(" … (%d values; --json prints all)", n)
	}
	return tensorValues(t)
}

func head[T any](s []T, n int) []T {
	if s == nil {
		return nil
	}
	return s[:min(n, len(s))]
}

func tensorValues(t *sdk.Tensor) string {
	switch {
	case t.BYTES != nil:
		s := make([]string, len(t.BYTES))
		for i, b := range t.BYTES {
			s[i] = strconv.Quote(string(b))
		}
		return strings.Join(s, " ")
	case t.FP32 != nil:
		return fmt.Sprint(t.FP32)
	case t.INT64 != nil:
		return fmt.Sprint(t.INT64)
	case t.INT32 != nil:
		return fmt.Sprint(t.INT32)
	case t.BOOL != nil:
		return fmt.Sprint(t.BOOL)
	}
	return "[]"
}

type pluginsListCmd struct {
	Dir string `arg:"" optional:"" default:"bin/plugins" placeholder:"DIR" help:"Directory of plugin binaries (default bin/plugins)."`
	pluginFlags
	Describe bool `name:"describe" help:"Start every verified plugin (all running at once), show its domain, version and resident memory, then the host's."`
}

func (c *pluginsListCmd) Run(env *cliutil.Env) error {
	defer closePlugins(os.Exit)()
	ents, err := os.ReadDir(c.Dir)
	if err != nil {
		return fmt.Errorf("plugins list: %w", err)
	}
	mpath := c.Manifest
	if mpath == "" {
		mpath = filepath.Join(c.Dir, sdk.ManifestName)
	}
	man, merr := readManifest(mpath, c.InsecureLock)
	n := 0
	var total int64
	for _, e := range ents {
		path := filepath.Join(c.Dir, e.Name())
		// A symbolic link to a binary (e.g. sentiment -> edgerun-plugins,
		// which serves the domain it is named after) is listed too.
		fi, err := os.Stat(path)
		if err != nil || !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
			continue
		}
		if e.Type()&os.ModeSymlink != 0 {
			fi = symlinkInfo{fi}
		}
		n++
		status := "no manifest"
		if merr == nil {
			sum, err := sdk.HashFile(path)
			want, listed := man.Lookup(path)
			switch {
			case err != nil:
				status = "unreadable: " + err.Error()
			case !listed:
				status = "not in the manifest"
			case hex.EncodeToString(sum) != hex.EncodeToString(want):
				status = "CHECKSUM MISMATCH"
			default:
				status = "verified"
			}
		}
		line := fmt.Sprintf("%-16s %8.1f MiB  %s", e.Name(), float64(fi.Size())/(1<<20), status)
		if fi.Mode()&os.ModeSymlink != 0 {
			if to, err := os.Readlink(path); err == nil {
				line += "  (-> " + to + ")"
			}
		}
		if c.Describe && (status == "verified" || c.Insecure) {
			// Kept running until the end, so the memory figures are those
			// of all plugins loaded at once.
			var more []string
			line, more = c.describeLine(line, path, env.Stderr, &total)
			for _, m := range more {
				line += "\n" + m
			}
		}
		fmt.Fprintln(env.Stdout, line)
	}
	if c.Describe && total > 0 {
		host := procRSS(os.Getpid())
		fmt.Fprintf(env.Stdout, "plugins' RSS %.1f MiB in all; this host %.1f MiB\n", float64(total)/(1<<20), float64(host)/(1<<20))
	}
	if n == 0 {
		return fmt.Errorf("plugins list: no executable in %s", c.Dir)
	}
	if merr != nil {
		fmt.Fprintf(env.Stdout, "(no manifest: %v; write one with `edgerun plugins lock %s/*`)\n", cliutil.OneLine(merr.Error()), c.Dir)
	}
	return nil
}

// symlinkInfo is the target's FileInfo of an entry that is a symbolic
// link, marked as one.
type symlinkInfo struct{ os.FileInfo }

func (s symlinkInfo) Mode() os.FileMode { return s.FileInfo.Mode() | os.ModeSymlink }

// describeLine starts the plugin at path and adds its name, version,
// domain, protocol and RSS to line (adding the RSS to total); the plugin
// keeps running until the command ends. A binary serving several domains
// (sdk.MultiDomain), started without --plugin-arg, is started once per
// domain, each described on a line of its own in more.
func (c *pluginsListCmd) describeLine(line, path string, stderr io.Writer, total *int64) (_ string, more []string) {
	one := func(f *pluginFlags) (*sdk.Plugin, *sdk.Description, string) {
		ctx, cancel := context.WithTimeout(context.Background(), f.Timeout)
		defer cancel()
		p, d, err := f.describe(ctx, path, stderr)
		if err != nil {
			return nil, nil, "  (start failed: " + cliutil.OneLine(err.Error()) + ")"
		}
		st := p.Status()
		s := fmt.Sprintf("  %s %s (%s)  protocol %d/%s", d.Name, d.Version, d.Domain, st.Protocol, st.Transport)
		if d.Domain == sdk.MultiDomain {
			s = fmt.Sprintf("  %s %s  serves %d domains: %s", d.Name, d.Version, len(d.Labels), strings.Join(d.Labels, ", "))
		} else if rss := procRSS(st.PID); rss > 0 {
			s += fmt.Sprintf("  RSS %.1f MiB", float64(rss)/(1<<20))
			*total += rss
		}
		return p, d, s
	}
	p, d, s := one(&c.pluginFlags)
	line += s
	if d == nil || d.Domain != sdk.MultiDomain {
		return line, nil
	}
	_ = p.Close()
	for _, domain := range d.Labels {
		f := c.pluginFlags
		f.Args = append([]string{domain}, c.Args...)
		_, _, s := one(&f)
		more = append(more, fmt.Sprintf("  %-14s%s", domain, s))
	}
	return line, more
}

type pluginsLockCmd struct {
	Binaries     []string `arg:"" placeholder:"PLUGIN" help:"Plugin binaries to pin (all in one directory)."`
	InsecureLock bool     `name:"insecure-lock" help:"Update an existing manifest even if others could have written it."`
}

func (c *pluginsLockCmd) Run(env *cliutil.Env) error {
	dir := filepath.Dir(c.Binaries[0])
	path := filepath.Join(dir, sdk.ManifestName)
	man := &sdk.Manifest{Dir: dir}
	if m, err := readManifest(path, c.InsecureLock); err == nil {
		man = m
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("plugins lock: %w", err)
	}
	for _, b := range c.Binaries {
		if filepath.Base(b) == sdk.ManifestName {
			continue // a glob like bin/plugins/* also matches the manifest
		}
		if fi, err := os.Stat(b); err == nil && fi.IsDir() {
			// ... and the folders of other targets' builds (make cross).
			fmt.Fprintf(env.Stdout, "%-64s  %s (a directory: skipped)\n", "", filepath.Base(b))
			continue
		}
		if filepath.Dir(b) != dir {
			return fmt.Errorf("plugins lock: %s is not in %s (one manifest per directory)", b, dir)
		}
		sum, err := sdk.HashFile(b)
		if err != nil {
			return fmt.Errorf("plugins lock: %w", err)
		}
		man.Add(filepath.Base(b), sum)
		fmt.Fprintf(env.Stdout, "%s  %s\n", hex.EncodeToString(sum), filepath.Base(b))
	}
	if err := writeManifest(man, path); err != nil {
		return fmt.Errorf("plugins lock: %w", err)
	}
	_, err := fmt.Fprintf(env.Stdout, "wrote %s\n", path)
	return err
}

// writeManifest writes man to path atomically (format/atomicfile), mode 0644.
func writeManifest(man *sdk.Manifest, path string) error {
	err := atomicfile.Write(path, 0o644, func(f *os.File) error {
		_, err := man.WriteTo(f)
		return err
	})
	if err != nil {
		return err
	}
	// A replaced lock keeps its mode; a lock is always 0644, so one
	// that others could write is not kept that way.
	return os.Chmod(path, 0o644)
}

// procRSS is a process's resident set size (VmRSS) on Linux, 0 elsewhere
// or when unknown.
func procRSS(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}
