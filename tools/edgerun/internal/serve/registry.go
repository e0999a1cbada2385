package serve

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/sdk"
)

// Options configure a registry.
type Options struct {
	// Models is the folder of .erm files, Plugins that of plugin binaries
	// (with their plugins.lock); either may be empty.
	Models, Plugins string
	// Config gives each model's limits and returns (nil: DefaultLimits,
	// every output).
	Config *Config
	// TrustedKeys, when set, refuse every .erm file not signed by one.
	TrustedKeys []ed25519.PublicKey
	// MaxModelBytes bounds an .erm file (default DefaultMaxModelBytes).
	MaxModelBytes int64
	// PluginOptions are further options of every plugin (sdk.Open), after
	// the registry's own (its name, plugins.lock beside it).
	PluginOptions []sdk.Option
	// PluginStartTimeout bounds a plugin's first description (default 10 s).
	PluginStartTimeout time.Duration
	// Rescan is how often the folders are read again besides fsnotify's
	// events (default 10 s; inotify is lost on some file systems).
	Rescan time.Duration
	// NoNotify turns fsnotify off: the periodic rescan alone finds changes
	// (tests; file systems where inotify is useless).
	NoNotify bool
	Logger   *slog.Logger
	Hooks    Hooks
}

// Hooks are where the dynamic batcher and the metrics plug into the
// registry; both are optional.
type Hooks struct {
	// Wrap, when set, wraps each loaded version of a model before it
	// serves, e.g. the dynamic batcher for an .erm model whose
	// info.Limits.MaxBatch > 1. Requests go through what it returns; if
	// that is an io.Closer, it is closed when the version retires (after
	// its last request, before the model itself).
	Wrap func(info ModelInfo, m sdk.Model) sdk.Model
	// Observer, when set, is told of every request and load.
	Observer Observer
}

// Observer is told what the registry does (the metrics).
type Observer interface {
	// Request: a request on model (the version that served it, "" when
	// none did) ended with err after took, queueing included.
	Request(model, version string, err error, took time.Duration)
	// Queue: waiting requests of model now number n.
	Queue(model string, n int)
	// Load: loading a version of model took took and failed with err (nil:
	// it serves).
	Load(model string, took time.Duration, err error)
}

// Reg is the registry of the models of a models folder and a plugins
// folder: it implements Registry. The ModelInfo.Desc it returns is shared
// by every snapshot of a version: read it, do not modify it.
type Reg struct {
	opt      Options
	log      *slog.Logger
	readOpts []format.Option

	mu       sync.Mutex
	models   map[string]*entry
	scanned  bool          // the first scan is done
	closing  bool          // Close was called
	closed   bool          // Close is done
	inflight int           // requests in Infer
	drained  chan struct{} // closed when closing and inflight is 0

	scanMu sync.Mutex // one scan at a time
}

var _ Registry = (*Reg)(nil)

// New returns a registry of the folders' models; Run (or Scan) loads them.
func New(opt Options) *Reg {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.MaxModelBytes <= 0 {
		opt.MaxModelBytes = DefaultMaxModelBytes
	}
	if opt.PluginStartTimeout <= 0 {
		opt.PluginStartTimeout = 10 * time.Second
	}
	if opt.Rescan <= 0 {
		opt.Rescan = 10 * time.Second
	}
	if opt.Config == nil {
		opt.Config = DefaultConfig()
	}
	r := &Reg{opt: opt, log: opt.Logger, models: map[string]*entry{}, drained: make(chan struct{})}
	if len(opt.TrustedKeys) > 0 {
		r.readOpts = []format.Option{format.WithTrustedKeys(opt.TrustedKeys...)}
	}
	return r
}

// entry is one model name: the version it serves, and its limits.
type entry struct {
	name, path, platform string
	limits               ModelLimits
	slots                chan struct{} // a token per request in flight
	waiting              atomic.Int64  // requests waiting for a slot
	cur                  atomic.Pointer[version]

	mu      sync.Mutex
	state   string  // StateLoading or StateFailed while cur is nil
	err     string  // why the last load failed
	key     fileKey // of the file last loaded (or refused)
	settled bool    // a load ended, well or not
}

// version is one loaded version of a model. It is closed when it is
// retired (replaced, removed, shut down) and its last request has ended.
type version struct {
	*loaded
	served   sdk.Model // the model, or the hook's wrapper of it
	loadedAt time.Time

	mu      sync.Mutex
	refs    int
	retired bool
	done    bool
}

// acquire returns the current version with a reference, nil when none
// serves.
func (e *entry) acquire() *version {
	for {
		v := e.cur.Load()
		if v == nil {
			return nil
		}
		v.mu.Lock()
		if !v.retired {
			v.refs++
			v.mu.Unlock()
			return v
		}
		v.mu.Unlock() // swapped out under us: take the new one
	}
}

func (v *version) release() {
	v.mu.Lock()
	v.refs--
	last := v.retired && v.refs == 0
	v.mu.Unlock()
	if last {
		v.shut()
	}
}

// retire closes the version once its requests have ended (at once with
// force).
func (v *version) retire(force bool) {
	v.mu.Lock()
	v.retired = true
	now := v.refs == 0 || force
	v.mu.Unlock()
	if now {
		v.shut()
	}
}

func (v *version) shut() {
	v.mu.Lock()
	done := v.done
	v.done = true
	v.mu.Unlock()
	if done {
		return
	}
	if c, ok := v.served.(io.Closer); ok && v.served != v.model {
		_ = c.Close()
	}
	if v.close != nil {
		_ = v.close()
	}
}

// fileKey identifies the content of a file as far as stat can tell
// (the file, its size and time), and for a plugin also its plugins.lock.
type fileKey struct {
	fi   os.FileInfo
	lock os.FileInfo
}

func sameStat(a, b os.FileInfo) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

func (k fileKey) same(o fileKey) bool {
	return k.fi != nil && sameStat(k.fi, o.fi) && sameStat(k.lock, o.lock)
}

// found is a model file a scan found.
type found struct {
	path, platform string
	key            fileKey
}

// scanDirs lists the model files of the folders: every NAME.erm of
// Models and every executable of Plugins (not plugins.lock, not hidden
// files such as format.WriteFile's temporary ones). An .erm and a plugin
// of the same name: the .erm serves, the plugin is logged.
func (r *Reg) scanDirs() map[string]found {
	out := map[string]found{}
	list := func(dir string) []os.DirEntry {
		if dir == "" {
			return nil
		}
		ents, err := os.ReadDir(dir)
		if err != nil {
			r.log.Warn("serve: cannot read the folder", "dir", dir, "err", err)
		}
		return ents
	}
	for _, de := range list(r.opt.Models) {
		name, ok := strings.CutSuffix(de.Name(), ".erm")
		if !ok || name == "" || strings.HasPrefix(name, ".") {
			continue
		}
		path := filepath.Join(r.opt.Models, de.Name())
		fi, err := os.Stat(path)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		out[name] = found{path: path, platform: PlatformERM, key: fileKey{fi: fi}}
	}
	var lock os.FileInfo
	if r.opt.Plugins != "" {
		lock, _ = os.Stat(filepath.Join(r.opt.Plugins, sdk.ManifestName))
	}
	for _, de := range list(r.opt.Plugins) {
		name := de.Name()
		if name == sdk.ManifestName || strings.HasPrefix(name, ".") {
			continue
		}
		path := filepath.Join(r.opt.Plugins, name)
		fi, err := os.Stat(path)
		if err != nil || !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
			continue
		}
		if f, ok := out[name]; ok {
			r.log.Warn("serve: a model and a plugin of the same name: the model serves", "model", f.path, "plugin", path)
			continue
		}
		out[name] = found{path: path, platform: PlatformPlugin, key: fileKey{fi: fi, lock: lock}}
	}
	return out
}

// Scan reads the folders once: new files become models (loading), files
// gone remove their model (its requests in flight finish first), and
// every new or changed file is loaded, one at a time, while the others
// serve; a version that fails to load is refused, logged, and the one
// before it keeps serving (ModelInfo.Err says why).
func (r *Reg) Scan() {
	r.scanMu.Lock()
	defer r.scanMu.Unlock()
	files := r.scanDirs()
	type job struct {
		e *entry
		f found
	}
	var jobs []job
	var gone []*version
	r.mu.Lock()
	if r.closing {
		r.mu.Unlock()
		return
	}
	for name, e := range r.models {
		if f, ok := files[name]; !ok || f.platform != e.platform {
			delete(r.models, name)
			if v := e.cur.Swap(nil); v != nil {
				gone = append(gone, v)
			}
			r.log.Info("serve: model removed", "model", name, "path", e.path)
		}
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		f := files[name]
		e, ok := r.models[name]
		if !ok {
			lim := r.opt.Config.Limits(name)
			lim.Concurrency = max(lim.Concurrency, 1)
			lim.Queue = max(lim.Queue, 0)
			e = &entry{name: name, path: f.path, platform: f.platform, limits: lim, slots: make(chan struct{}, inFlight(lim, f.platform)), state: StateLoading}
			r.models[name] = e
		}
		e.mu.Lock()
		changed := !e.key.same(f.key)
		e.mu.Unlock()
		if changed {
			jobs = append(jobs, job{e, f})
		}
	}
	r.scanned = true
	r.mu.Unlock()
	for _, v := range gone {
		v.retire(false)
	}
	for _, j := range jobs {
		r.load(j.e, j.f)
	}
}

// load loads a new version of e from f and switches to it.
func (r *Reg) load(e *entry, f found) {
	start := time.Now()
	var l *loaded
	var err error
	if f.platform == PlatformERM {
		l, err = loadERM(f.path, e.name, e.limits, r.opt.MaxModelBytes, r.readOpts)
	} else {
		l, err = openPlugin(f.path, e.name, r.opt.PluginStartTimeout, r.opt.PluginOptions)
	}
	took := time.Since(start)
	if o := r.opt.Hooks.Observer; o != nil {
		o.Load(e.name, took, err)
	}
	v := &version{loaded: l, served: nil, loadedAt: time.Now()}
	if err == nil {
		v.served = l.model
		if w := r.opt.Hooks.Wrap; w != nil {
			e.mu.Lock()
			info := r.info(e, v)
			e.mu.Unlock()
			v.served = w(info, l.model) // unlocked: the hook may call the registry
		}
		// The config's outputs and top_k, outside the batcher (requests
		// alike after them batch together).
		v.served = withReturns(v.served, e.name, l.desc, r.opt.Config.Returns(e.name), v.served != l.model, r.log)
	}
	e.mu.Lock()
	e.key, e.settled = f.key, true
	if err != nil {
		e.err = err.Error()
		if e.cur.Load() == nil {
			e.state = StateFailed
		}
		old := e.cur.Load()
		e.mu.Unlock()
		if old != nil {
			r.log.Error("serve: new version refused; the old one keeps serving", "model", e.name, "path", f.path, "serving", old.version, "err", err)
		} else {
			r.log.Error("serve: model refused", "model", e.name, "path", f.path, "err", err)
		}
		return
	}
	e.err = ""
	old := e.cur.Swap(v)
	e.mu.Unlock()
	if old != nil {
		old.retire(false)
	}
	r.log.Info("serve: model loaded", "model", e.name, "version", l.version, "platform", f.platform, "path", f.path, "took", took.Round(time.Microsecond))
	r.mu.Lock()
	stale := r.closing || r.models[e.name] != e
	r.mu.Unlock()
	if stale && e.cur.CompareAndSwap(v, nil) { // shut down or removed meanwhile
		v.retire(false)
	}
}

// Run scans the folders, then again on every change fsnotify reports in
// them and every Options.Rescan, until ctx ends or Close is called.
func (r *Reg) Run(ctx context.Context) {
	r.Scan()
	r.watch(ctx)
}

func (r *Reg) isClosing() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closing
}

// begin counts a request in, unless the registry is shutting down.
func (r *Reg) begin() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closing {
		return ErrShuttingDown
	}
	r.inflight++
	return nil
}

func (r *Reg) end() {
	r.mu.Lock()
	r.inflight--
	if r.closing && r.inflight == 0 {
		close(r.drained)
	}
	r.mu.Unlock()
}

func (r *Reg) entry(name string) *entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.models[name]
}

// Infer implements Registry.
func (r *Reg) Infer(ctx context.Context, name, version string, req *sdk.InferRequest) (*sdk.InferResponse, error) {
	if err := r.begin(); err != nil {
		return nil, err
	}
	defer r.end()
	e := r.entry(name)
	if e == nil {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	start := time.Now()
	resp, served, err := r.infer(ctx, e, version, req)
	if o := r.opt.Hooks.Observer; o != nil {
		o.Request(name, served, err, time.Since(start))
	}
	return resp, err
}

func (r *Reg) infer(ctx context.Context, e *entry, want string, req *sdk.InferRequest) (*sdk.InferResponse, string, error) {
	v := e.acquire()
	if v == nil {
		e.mu.Lock()
		state, why := e.state, e.err
		e.mu.Unlock()
		if why != "" {
			return nil, "", fmt.Errorf("%w: model %q is %s: %s", ErrUnavailable, e.name, state, why)
		}
		return nil, "", fmt.Errorf("%w: model %q is %s", ErrUnavailable, e.name, state)
	}
	defer v.release()
	if want != "" && want != v.version {
		return nil, "", fmt.Errorf("%w: model %q has no version %q (it serves %q)", ErrNotFound, e.name, want, v.version)
	}
	if e.limits.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.limits.Timeout)
		defer cancel()
	}
	if err := r.enter(ctx, e); err != nil {
		return nil, v.version, err
	}
	defer func() { <-e.slots }()
	resp, err := v.served.Infer(ctx, req)
	if err != nil {
		return nil, v.version, err
	}
	resp.ModelName, resp.ModelVersion = e.name, v.version
	if resp.ID == "" {
		resp.ID = req.ID
	}
	return resp, v.version, nil
}

// inFlight is how many requests of a model are let in at once: its
// Concurrency, times MaxBatch for an .erm model that batches, each of
// whose runs carries up to MaxBatch requests (the batcher needs them in
// to gather them).
func inFlight(lim ModelLimits, platform string) int {
	if platform == PlatformERM && lim.MaxBatch > 1 {
		return lim.Concurrency * lim.MaxBatch
	}
	return lim.Concurrency
}

// enter takes one of e's slots of requests in flight, waiting for one in
// e's queue if there is room (ErrQueueFull if not) until ctx ends.
func (r *Reg) enter(ctx context.Context, e *entry) error {
	select {
	case e.slots <- struct{}{}:
		return nil
	default:
	}
	n := e.waiting.Add(1)
	if n > int64(e.limits.Queue) {
		e.waiting.Add(-1)
		return fmt.Errorf("%w: model %q has %d requests in flight and %d waiting (queue)", ErrQueueFull, e.name, cap(e.slots), e.limits.Queue)
	}
	o := r.opt.Hooks.Observer
	if o != nil {
		o.Queue(e.name, int(n))
	}
	defer func() {
		n := e.waiting.Add(-1)
		if o != nil {
			o.Queue(e.name, int(n))
		}
	}()
	select {
	case e.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("model %q: waiting in the queue: %w", e.name, ctx.Err())
	}
}

// info is a snapshot of e serving v (nil: none).
func (r *Reg) info(e *entry, v *version) ModelInfo {
	in := ModelInfo{Name: e.name, Platform: e.platform, Path: e.path, Limits: e.limits, State: e.state, Err: e.err}
	if v == nil {
		return in
	}
	in.Version, in.Versions, in.Desc = v.version, []string{v.version}, v.desc
	in.Kernel, in.Weights, in.LoadedAt, in.State = v.kernel, v.weights, v.loadedAt, StateReady
	if v.plugin != nil {
		st := v.plugin.Status()
		in.State, in.Restarts = pluginState(st.State), st.Restarts
	}
	return in
}

func (r *Reg) snapshot(e *entry) ModelInfo {
	e.mu.Lock()
	in := r.info(e, e.cur.Load())
	e.mu.Unlock()
	if r.isClosing() && in.State == StateReady {
		in.State = StateUnavailable
	}
	return in
}

// Models implements Registry.
func (r *Reg) Models() []ModelInfo {
	r.mu.Lock()
	es := make([]*entry, 0, len(r.models))
	for _, e := range r.models {
		es = append(es, e)
	}
	r.mu.Unlock()
	slices.SortFunc(es, func(a, b *entry) int { return strings.Compare(a.name, b.name) })
	out := make([]ModelInfo, len(es))
	for i, e := range es {
		out[i] = r.snapshot(e)
	}
	return out
}

// Model implements Registry.
func (r *Reg) Model(name, version string) (ModelInfo, error) {
	e := r.entry(name)
	if e == nil {
		return ModelInfo{}, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	in := r.snapshot(e)
	if version != "" && version != in.Version {
		return ModelInfo{}, fmt.Errorf("%w: model %q has no version %q (it serves %q)", ErrNotFound, name, version, in.Version)
	}
	return in, nil
}

// Live implements Registry: true until Close has ended.
func (r *Reg) Live() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.closed
}

// Ready implements Registry: the first scan is done, every model found
// has settled (loaded, or failed), and the registry is not shutting
// down.
func (r *Reg) Ready() bool {
	r.mu.Lock()
	if !r.scanned || r.closing {
		r.mu.Unlock()
		return false
	}
	es := make([]*entry, 0, len(r.models))
	for _, e := range r.models {
		es = append(es, e)
	}
	r.mu.Unlock()
	for _, e := range es {
		e.mu.Lock()
		ok := e.settled
		e.mu.Unlock()
		if !ok {
			return false
		}
	}
	return true
}

// Close shuts the registry down: new requests get ErrShuttingDown, those
// in flight finish (until ctx ends: then ctx's error is returned and the
// models are closed under them), and every model is closed, plugins'
// processes included.
func (r *Reg) Close(ctx context.Context) error {
	r.mu.Lock()
	if r.closing {
		r.mu.Unlock()
		return errors.New("serve: registry already closed")
	}
	r.closing = true
	if r.inflight == 0 {
		close(r.drained)
	}
	r.mu.Unlock()
	var err error
	select {
	case <-r.drained:
	case <-ctx.Done():
		err = fmt.Errorf("serve: requests still in flight at the drain deadline: %w", ctx.Err())
	}
	r.scanMu.Lock() // a load in progress ends first
	r.mu.Lock()
	es := make([]*entry, 0, len(r.models))
	for _, e := range r.models {
		es = append(es, e)
	}
	r.mu.Unlock()
	for _, e := range es {
		if v := e.cur.Swap(nil); v != nil {
			v.retire(err != nil)
		}
	}
	r.scanMu.Unlock()
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	return err
}
