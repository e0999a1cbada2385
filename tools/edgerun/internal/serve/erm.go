package serve

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/sdkrt"
)

// DefaultMaxModelBytes bounds an .erm file the registry reads.
const DefaultMaxModelBytes = 1 << 30

// VersionKey is the free-form metadata key (format.Metadata.Extra) that
// names a model's version; without it the version is the first 12 hex
// digits of the file's SHA-256, so every distinct file is a distinct
// version.
const VersionKey = "version"

// TextInput is the name of the BYTES input of a text model.
const TextInput = "text"

// loaded is one version of a model, ready to serve.
type loaded struct {
	model   sdk.Model
	close   func() error
	version string
	desc    *sdk.Description
	kernel  string
	weights string
	plugin  *sdk.Plugin // a plugin's supervisor, nil for an .erm
}

// loadERM reads, verifies and loads the .erm file at path (at most
// maxBytes; opts are format read options: trusted keys) and serves it as
// the model name: a text model (a tokenizer in its metadata) takes the
// BYTES input "text", one text per row; a tabular model (features) one
// input per named feature (sdkrt.NewTabular); a classifier (two labels
// or more) answers "label" and "probabilities" (and "top_k_labels",
// "top_k_scores" with three labels or more, parameter top_k;
// "anomaly_score" when its metadata names a normal_label); a
// keyword-spotting model (an audio front end in its metadata) takes
// audio samples, one clip or a stream in chunks (sdkrt.NewKWS); any other
// model takes and answers its own tensors.
func loadERM(path, name string, lim ModelLimits, maxBytes int64, opts []format.Option) (*loaded, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > maxBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxBytes)
	}
	sum := sha256.Sum256(data)
	fm, err := format.Read(bytes.NewReader(data), opts...)
	if err != nil {
		return nil, err
	}
	version := hex.EncodeToString(sum[:])[:12]
	for _, kv := range fm.Metadata.Extra {
		if kv.Key == VersionKey && kv.Value != "" {
			version = kv.Value
		}
	}
	weights := weightsOf(fm)
	em, err := engine.Load(fm, engine.TakeTensorData())
	if err != nil {
		return nil, err
	}
	cfg := ermConfig(em, name, version, lim)
	var m interface {
		sdk.Model
		Close() error
	}
	if sdkrt.HasAudio(em) {
		m, err = sdkrt.NewKWS(em, sdkrt.Config{Name: name, Version: version, Domain: cfg.Domain, Threads: lim.Threads, MaxSessions: lim.Sessions})
	} else {
		m, err = sdkrt.New(em, cfg)
	}
	if err != nil {
		return nil, err
	}
	d, err := m.Describe(context.Background())
	if err != nil {
		return nil, err
	}
	return &loaded{model: m, close: m.Close, version: version, desc: d, kernel: engine.Kernel(), weights: weights}, nil
}

// OpenERM serves the .erm file at path in process as the daemon does
// (the same inputs and outputs from its metadata), outside a registry:
// named after its file, threads per run (0: 1), one session. edgerun
// pipeline's erm models go through it.
func OpenERM(path string, threads int) (sdk.Model, func() error, error) {
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	l, err := loadERM(path, name, ModelLimits{Threads: threads, Sessions: 1}, DefaultMaxModelBytes, nil)
	if err != nil {
		return nil, nil, err
	}
	return l.model, l.close, nil
}

// ermConfig is how an engine model is served, from its metadata.
func ermConfig(em *engine.Model, name, version string, lim ModelLimits) sdkrt.Config {
	cfg := sdkrt.Config{Name: name, Version: version, Domain: em.Meta.Task, Threads: lim.Threads, MaxSessions: lim.Sessions}
	if cfg.Domain == "" {
		cfg.Domain = name
	}
	switch {
	case em.Meta.Tokenizer != nil:
		if txt, err := sdkrt.NewText(em, TextInput); err == nil {
			cfg.Inputs, cfg.Pre = []sdk.TensorSpec{txt.Spec()}, txt.Pre
		}
	case len(em.Meta.Features) > 0:
		if tab, err := sdkrt.NewTabular(em); err == nil {
			cfg.Inputs, cfg.Pre = tab.Specs(), tab.Pre
		}
	}
	if len(em.Meta.Labels) >= 2 {
		if cls, err := sdkrt.NewClassifier(em); err == nil {
			if len(cls.Labels) > 2 {
				cls.TopK = 3
			}
			cfg.Outputs, cfg.Post, cfg.Parameters = cls.Specs(), cls.Post, cls.Parameters()
		}
	}
	return cfg
}

// weightsOf says whether a model's weights are "int8" (every matrix
// quantized), "f32" (none) or "mixed".
func weightsOf(fm *format.Model) string {
	var q, f int
	for _, t := range fm.Tensors {
		switch {
		case t.Quant != nil || t.DType == format.I8:
			q++
		case t.DType == format.F32 && len(t.Shape) >= 2:
			f++
		}
	}
	switch {
	case q == 0:
		return "f32"
	case f == 0:
		return "int8"
	}
	return "mixed"
}
