package main

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/quant"
	"github.com/edgerun/edgerun/tools/internal/cliutil"
	"github.com/edgerun/edgerun/tools/train"
)

// quantWeights lists, per operator, the inputs that are matmul weights or
// embedding tables: what quantization v1 stores int8 (per output row).
var quantWeights = map[string][]int{
	"Dense":              {1},
	"Embedding":          {1},
	"LSTM":               {1, 2, 4, 5},
	"GRU":                {1, 2, 5, 6},
	"Conv1D":             {1},
	"Conv2D":             {1},
	"DepthwiseConv2D":    {1},
	"MultiHeadAttention": {1, 3},
}

// quantizeModel returns a copy of fm with the f32 weights of every
// quantizable node not in keep turned int8 per row (runtime/quant, the
// scheme the trainer's export uses), and the names of the nodes changed.
// Tables of one column (bias embeddings) stay f32: per-row int8 would
// store each value with its own scale, for no saving.
func quantizeModel(fm *format.Model, keep map[string]bool) (*format.Model, []string, error) {
	out := *fm
	out.Tensors = append([]format.Tensor(nil), fm.Tensors...)
	byName := map[string]int{}
	for i := range out.Tensors {
		byName[out.Tensors[i].Name] = i
	}
	var nodes []string
	done := map[string]bool{}
	for _, n := range fm.Graph.Nodes {
		idx, ok := quantWeights[n.Op]
		if !ok || keep[n.Name] {
			continue
		}
		changed := false
		for _, k := range idx {
			if k >= len(n.Inputs) || done[n.Inputs[k]] {
				continue
			}
			ti, ok := byName[n.Inputs[k]]
			if !ok {
				continue
			}
			t := &out.Tensors[ti]
			if t.DType != format.F32 || len(t.Shape) < 2 || t.NumElements()/t.Shape[0] < 2 {
				continue
			}
			w, err := t.Float32s()
			if err != nil {
				return nil, nil, fmt.Errorf("tensor %q: %w", t.Name, err)
			}
			rows := int(t.Shape[0])
			q, sc := quant.SymmetricRows(w, rows, len(w)/rows)
			*t = format.NewI8(t.Name, t.Shape, q, &format.Quant{Scheme: format.Symmetric, Axis: 0, Scales: sc})
			done[t.Name] = true
			changed = true
		}
		if changed {
			nodes = append(nodes, n.Name)
		}
	}
	return &out, nodes, nil
}

// quantizeCmd is `edgetrain quantize`.
type quantizeCmd struct {
	Model    string  `arg:"" placeholder:"MODEL.erm" help:"An f32 model file."`
	Out      string  `name:"out" required:"" placeholder:"OUT.erm" help:"The int8 model to write; replaced atomically."`
	Data     string  `name:"data" placeholder:"VAL.csv" help:"Check the int8 model against the f32 one on this CSV through the engine (recommended): validation rows, not the test split, since --max-drop decides on them."`
	TestRows string  `name:"test-rows" placeholder:"FILE" help:"Use only these 0-based data rows of --data."`
	MaxDrop  float64 `name:"max-drop" default:"1" help:"With --data: largest loss of the main metric in points, 0 or more; beyond it layers are kept f32, most sensitive first."`
	Force    bool    `name:"force" help:"Write even when the loss exceeds --max-drop with every layer tried."`
	Keep     string  `name:"keep-f32" placeholder:"NODE,..." help:"Nodes to keep f32 regardless."`
	Codec    string  `name:"codec" enum:"zstd,s2,none" default:"zstd" help:"Payload compression."`
	JSON     bool    `name:"json" help:"Print one JSON object."`
}

type quantizeReport struct {
	File      string             `json:"file"`
	Quantized []string           `json:"quantized"`
	KeptF32   []string           `json:"kept_f32,omitempty"`
	F32       map[string]float64 `json:"f32,omitempty"`
	Int8      map[string]float64 `json:"int8,omitempty"`
	FileBytes int64              `json:"file_bytes"`
}

// Run quantizes, optionally checks on data, and writes.
func (c *quantizeCmd) Run(env *cliutil.Env) error {
	codec, err := format.ParseCodec(c.Codec)
	if err != nil {
		return err
	}
	if err := checkMaxDrop(c.MaxDrop); err != nil {
		return fmt.Errorf("quantize: %w", err)
	}
	fm, err := format.ReadFile(c.Model)
	if err != nil {
		return cliutil.OpError("quantize", c.Model, err)
	}
	keep := map[string]bool{}
	for _, n := range strings.Split(c.Keep, ",") {
		if n = strings.TrimSpace(n); n != "" {
			keep[n] = true
		}
	}
	out, nodes, err := quantizeModel(fm, keep)
	if err != nil {
		return cliutil.OpError("quantize", c.Model, err)
	}
	if len(nodes) == 0 {
		return fmt.Errorf("quantize: %s: no f32 weights to quantize (already int8?)", c.Model)
	}
	rep := quantizeReport{File: c.Out, Quantized: nodes}
	if c.Data != "" {
		_, r, ok := recipeFor(fm.Metadata.Task)
		if !ok {
			return fmt.Errorf("quantize: %s: model task %q is not one edgetrain can evaluate", c.Model, fm.Metadata.Task)
		}
		set, kind, err := r.eval(fm, c.Data, train.FitOptions{Data: c.Data, TestRows: c.TestRows})
		if err != nil {
			return fmt.Errorf("quantize: %s: %w", c.Data, err)
		}
		main := kind.MainMetric() // the figure --max-drop guards
		f32, _, err := train.EvalEngine(fm, kind, set)
		if err != nil {
			return fmt.Errorf("quantize: %w", err)
		}
		rep.F32 = f32
		q, _, err := train.EvalEngine(out, kind, set)
		if err != nil {
			return fmt.Errorf("quantize: %w", err)
		}
		for drop := metricDrop(main, f32, q); drop > c.MaxDrop; drop = metricDrop(main, f32, q) {
			// Keep the node whose f32 weights recover the most.
			best, bestDrop := "", drop
			for _, n := range nodes {
				if keep[n] {
					continue
				}
				keep[n] = true
				trial, _, err := quantizeModel(fm, keep)
				delete(keep, n)
				if err != nil {
					return err
				}
				tq, _, err := train.EvalEngine(trial, kind, set)
				if err != nil {
					return err
				}
				if d := metricDrop(main, f32, tq); d < bestDrop || best == "" {
					best, bestDrop = n, d
				}
			}
			if best == "" {
				if !c.Force {
					return fmt.Errorf("quantize: int8 loses %.2f points of %s with every layer tried (limit --max-drop %g); use --force", drop, main, c.MaxDrop)
				}
				break
			}
			keep[best] = true
			rep.KeptF32 = append(rep.KeptF32, best)
			if out, nodes, err = quantizeModel(fm, keep); err != nil {
				return err
			}
			if q, _, err = train.EvalEngine(out, kind, set); err != nil {
				return err
			}
		}
		rep.Int8 = q
		rep.Quantized = nodes
		out.Metadata.Metrics = nil
		addMetrics(out, "f32", f32)
		addMetrics(out, "int8", q)
	}
	sort.Strings(rep.KeptF32)
	if err := format.WriteFile(c.Out, out, format.WithCodec(codec)); err != nil {
		return cliutil.OpError("quantize", c.Out, err)
	}
	if fi, err := os.Stat(c.Out); err == nil {
		rep.FileBytes = fi.Size()
	}
	if c.JSON {
		return cliutil.WriteJSON(env.Stdout, rep)
	}
	fmt.Fprintf(env.Stdout, "wrote %s: %d nodes int8 (%s)", c.Out, len(rep.Quantized), strings.Join(rep.Quantized, ", "))
	if len(rep.KeptF32) > 0 {
		fmt.Fprintf(env.Stdout, "; kept f32: %s", strings.Join(rep.KeptF32, ", "))
	}
	fmt.Fprintf(env.Stdout, "; %d bytes\n", rep.FileBytes)
	if rep.F32 != nil {
		printReport(env.Stdout, "", nil, rep.F32, rep.Int8, nil)
	}
	return nil
}
