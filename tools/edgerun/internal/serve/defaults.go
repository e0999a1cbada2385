package serve

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strconv"

	"github.com/edgerun/edgerun/sdk"
)

// TopKParam is the request parameter of a classifier's top-k outputs.
const TopKParam = "top_k"

// returning is a model answering as the config file's Returns say: a
// request that names no output gets ret.Outputs, one without a top_k
// parameter gets ret.TopK (when the model takes it).
type returning struct {
	sdk.Model
	outputs []string
	topK    string // "" when not set or not taken
	closer  io.Closer
}

// withReturns wraps m (served as name, described by desc) so that it
// answers as ret says; m itself if ret changes nothing. Settings the
// model cannot honour are logged: an output it does not have (requests
// that name none then fail with that name, 400), a top_k it does not
// take (ignored) or over its labels. closeInner: Close closes m (a
// wrapper of the registry's hooks, not the model itself).
func withReturns(m sdk.Model, name string, desc *sdk.Description, ret Returns, closeInner bool, log *slog.Logger) sdk.Model {
	r := &returning{Model: m, outputs: ret.Outputs}
	if desc != nil {
		for _, o := range ret.Outputs {
			if !slices.ContainsFunc(desc.Outputs, func(s sdk.TensorSpec) bool { return s.Name == o }) {
				log.Warn("serve: config outputs names an output the model does not have: requests naming no output will fail", "model", name, "output", o)
			}
		}
	}
	if ret.TopK > 0 {
		takes := false
		if desc != nil {
			_, takes = desc.Parameters[TopKParam]
		}
		switch {
		case !takes:
			log.Warn("serve: config top_k for a model without a top_k parameter: ignored", "model", name, "top_k", ret.TopK)
		default:
			if len(desc.Labels) > 0 && ret.TopK > len(desc.Labels) {
				log.Warn("serve: config top_k is over the model's labels: requests giving none will fail", "model", name, "top_k", ret.TopK, "labels", len(desc.Labels))
			}
			r.topK = strconv.Itoa(ret.TopK)
		}
	}
	if len(r.outputs) == 0 && r.topK == "" {
		return m
	}
	if c, ok := m.(io.Closer); ok && closeInner {
		r.closer = c
	}
	return r
}

func (r *returning) Infer(ctx context.Context, req *sdk.InferRequest) (*sdk.InferResponse, error) {
	outs := len(req.Outputs) == 0 && len(r.outputs) > 0
	_, given := req.Parameters[TopKParam]
	topK := r.topK != "" && !given
	if outs || topK {
		c := *req // the caller's request stays as it was
		if outs {
			c.Outputs = slices.Clone(r.outputs)
		}
		if topK {
			c.Parameters = maps.Clone(req.Parameters)
			if c.Parameters == nil {
				c.Parameters = map[string]string{}
			}
			c.Parameters[TopKParam] = r.topK
		}
		req = &c
	}
	return r.Model.Infer(ctx, req)
}

// Close closes the wrapper underneath (a dynamic batcher), if any.
func (r *returning) Close() error {
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}
