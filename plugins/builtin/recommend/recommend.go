// Package recommend is the built-in movie recommender: a user id in, the
// top-k movie ids with scores out; or a movie id in, the k most similar
// movies (cosine of the model's item embeddings) out. The model
// (model.erm, embedded) is edgetrain's implicit-feedback ranker trained on
// the bundled MovieLens small ratings (`make models` regenerates it).
//
// Titles: with the environment variable EDGERUN_RECOMMEND_TITLES (TitlesEnv)
// naming a titles CSV (movieId,title[,year]; the bundled
// data/recommendation/movielens_small/movies.csv is one), or
// NewModel(WithTitles(path)) in Go, every response also has an output
// "titles" (BYTES [n, k], "Title (year)") beside the ids. The host passes
// its environment to plugins, so
//
//	EDGERUN_RECOMMEND_TITLES=data/recommendation/movielens_small/movies.csv bin/edgerun plugins infer bin/plugins/recommend --set user=1
//
// works, as does sdk.WithEnv. A titles file that cannot be read stops
// the plugin at start with the reason.
//
// MovieLens data is licensed for non-commercial research use only: so is
// this model.
package recommend

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/tensor"
	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/sdkrt"
)

//go:embed model.erm
var modelFile []byte

// Name is the plugin's name and domain.
const Name = "recommend"

// Version is the plugin's version.
const Version = "1.0.0"

// Inputs, outputs and limits.
const (
	InUser     = "user"     // INT64 (or BYTES) [n] user ids
	InItem     = "item"     // INT64 (or BYTES) [n] movie ids
	OutItemIDs = "item_ids" // INT64 [n, k] movie ids, best first
	OutScores  = "scores"   // FP32 [n, k]
	DefaultK   = 10
	MaxK       = 100
	// MaxQueries bounds the users or items of one request (each user
	// scores every item).
	MaxQueries = 16
)

const (
	dataset = "data/recommendation/movielens_small (MovieLens 100k small, GroupLens; NON-COMMERCIAL research use only)"
	licence = "MovieLens licence: non-commercial research use only"
)

// Model serves the recommender. It is safe for concurrent use.
type Model struct {
	rank *sdkrt.Model
	// byUser and byItem describe the two kinds of request, for
	// sdk.ValidateRequest.
	byUser, byItem sdk.Description
	users          *sdkrt.IDMap
	items          *sdkrt.IDMap
	// The item embedding table, int8 rows (per-row scales cancel out in
	// a cosine), and each row's norm.
	emb   []int8
	dim   int
	norms []float32
	// titles maps a movie id to its title (nil: no titles file).
	titles map[string]string
}

var _ sdk.Model = (*Model)(nil)

// New loads the embedded model, with titles when TitlesEnv names a
// titles file.
func New() (sdk.Model, error) { return NewModel() }

// NewModel loads the embedded model. Titles come from WithTitles, else
// from the file TitlesEnv names, else there are none.
func NewModel(opts ...Option) (*Model, error) {
	o := options{}
	for _, f := range opts {
		f(&o)
	}
	if !o.titlesSet {
		o.titles = os.Getenv(TitlesEnv)
	}
	fm, err := format.Read(bytes.NewReader(modelFile))
	if err != nil {
		return nil, err
	}
	em, err := engine.Load(fm)
	if err != nil {
		return nil, err
	}
	m := &Model{}
	if o.titles != "" {
		if m.titles, err = ReadTitles(o.titles); err != nil {
			return nil, err
		}
	}
	if m.users, err = sdkrt.NewIDMap(em, InUser); err != nil {
		return nil, err
	}
	if m.items, err = sdkrt.NewIDMap(em, InItem); err != nil {
		return nil, err
	}
	if err := m.loadEmbeddings(fm); err != nil {
		return nil, err
	}
	if len(em.Inputs) != 2 || em.Inputs[0].Name != InUser || em.Inputs[1].Name != InItem ||
		len(em.Outputs) != 1 || em.Outputs[0].DType != tensor.F32 {
		return nil, fmt.Errorf("recommend: the model is not a (user, item) → score ranker: %v → %v", em.Inputs, em.Outputs)
	}
	idType := func(ids *sdkrt.IDMap) string {
		if ids.Numeric {
			return sdk.INT64
		}
		return sdk.BYTES
	}
	outputs := []sdk.TensorSpec{
		{Name: OutItemIDs, Datatype: idType(m.items), Shape: []int64{-1, -1}},
		{Name: OutScores, Datatype: sdk.FP32, Shape: []int64{-1, -1}},
	}
	titles := fmt.Sprintf("Titles: set %s to a titles CSV (movieId,title[,year], e.g. data/recommendation/movielens_small/movies.csv) "+
		"for an output %q beside the ids. ", TitlesEnv, OutTitles)
	if m.titles != nil {
		outputs = append(outputs, sdk.TensorSpec{Name: OutTitles, Datatype: sdk.BYTES, Shape: []int64{-1, -1}})
		titles = fmt.Sprintf("Output %q: the movies' titles (%d in the titles file; \"\" for an id it lacks). ", OutTitles, len(m.titles))
	}
	m.rank, err = sdkrt.New(em, sdkrt.Config{
		Name: Name, Version: Version, Domain: Name,
		Summary: "movie recommendations: a user id → the top-k movie ids with scores (the ranker's probability the user " +
			"watches and likes it); or a movie id → the k most similar movies (cosine of item embeddings). " +
			fmt.Sprintf("Send exactly one input, %q or %q, with up to %d ids. ", InUser, InItem, MaxQueries) + titles + licence,
		Provenance: sdkrt.Provenance(em, dataset) + ". " + licence,
		Inputs: []sdk.TensorSpec{
			{Name: InUser, Datatype: idType(m.users), Shape: []int64{-1}, Optional: true},
			{Name: InItem, Datatype: idType(m.items), Shape: []int64{-1}, Optional: true},
		},
		Outputs: outputs,
		Labels:  []string{},
		Parameters: map[string]string{
			"k": fmt.Sprintf("number of movies per query, 1 to %d (default %d)", MaxK, DefaultK),
		},
		Pre:          m.pre,
		Post:         m.post,
		SkipValidate: true, // one input or the other: Infer validates
	})
	if err != nil {
		return nil, err
	}
	d, err := m.rank.Describe(context.Background())
	if err != nil {
		return nil, err
	}
	m.byUser, m.byItem = *d, *d
	m.byUser.Inputs, m.byItem.Inputs = d.Inputs[:1], d.Inputs[1:]
	return m, nil
}

func (m *Model) loadEmbeddings(fm *format.Model) error {
	for i := range fm.Tensors {
		t := &fm.Tensors[i]
		if t.Name != "item_emb/table" {
			continue
		}
		if len(t.Shape) != 2 || int(t.Shape[0]) != m.items.Len() || t.Shape[1] <= 0 {
			return fmt.Errorf("recommend: item_emb/table has shape %v for %d items", t.Shape, m.items.Len())
		}
		m.dim = int(t.Shape[1])
		n := m.items.Len() * m.dim
		switch t.DType {
		case format.I8:
			if len(t.Data) != n {
				return fmt.Errorf("recommend: item_emb/table has %d bytes, want %d", len(t.Data), n)
			}
			m.emb = make([]int8, n)
			for j, b := range t.Data {
				m.emb[j] = int8(b)
			}
		default:
			return fmt.Errorf("recommend: item_emb/table is %s, want int8", t.DType)
		}
		m.norms = make([]float32, m.items.Len())
		for r := range m.norms {
			var s int64
			for _, v := range m.emb[r*m.dim : (r+1)*m.dim] {
				s += int64(v) * int64(v)
			}
			m.norms[r] = float32(math.Sqrt(float64(s)))
		}
		return nil
	}
	return fmt.Errorf("recommend: the model has no item_emb/table")
}

// Describe describes the plugin.
func (m *Model) Describe(ctx context.Context) (*sdk.Description, error) {
	return m.rank.Describe(ctx)
}

// Health reports whether the model can serve.
func (m *Model) Health(ctx context.Context) error { return m.rank.Health(ctx) }

// Close releases the engine sessions.
func (m *Model) Close() error { return m.rank.Close() }

// Infer answers a "user" request with recommendations and an "item"
// request with similar items.
func (m *Model) Infer(ctx context.Context, req *sdk.InferRequest) (*sdk.InferResponse, error) {
	if req == nil {
		return nil, sdkrt.Invalid("no request")
	}
	user, item := req.Input(InUser), req.Input(InItem)
	if user != nil && item != nil {
		return nil, sdkrt.Invalid("send either %q (recommendations) or %q (similar items), not both", InUser, InItem)
	}
	if user == nil && item == nil {
		has := "no inputs"
		if len(req.Inputs) > 0 {
			names := make([]string, len(req.Inputs))
			for i, in := range req.Inputs {
				names[i] = strconv.Quote(in.Name)
			}
			has = strings.Join(names, ", ")
		}
		return nil, sdkrt.Invalid("send an input %q (user ids: recommendations) or %q (movie ids: similar movies); the request has %s", InUser, InItem, has)
	}
	d := &m.byUser
	if item != nil {
		d = &m.byItem
	}
	if err := sdk.ValidateRequest(d, req); err != nil {
		return nil, err
	}
	if item == nil {
		return m.rank.Infer(ctx, req)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	k, err := sdkrt.IntParam(req, "k", DefaultK, 1, MaxK)
	if err != nil {
		return nil, err
	}
	rows, _, err := m.items.Rows(item, MaxQueries)
	if err != nil {
		return nil, err
	}
	scores := make([]float32, m.items.Len())
	ids := make([]string, 0, len(rows)*k)
	top := make([]float32, 0, len(rows)*k)
	for _, q := range rows {
		m.similar(scores, q)
		for _, r := range sdkrt.TopK(scores, k) {
			ids = append(ids, m.items.Raw(int64(r)))
			top = append(top, scores[r])
		}
	}
	return m.rank.Finish(m.response(ids, top, len(rows), k), req), nil
}

// similar writes the cosine of every item with item q into scores; q
// itself, the unknown row and items without an embedding get −2 (below
// any cosine).
func (m *Model) similar(scores []float32, q int64) {
	qv := m.emb[int(q)*m.dim : int(q+1)*m.dim]
	qn := m.norms[q]
	for r := range scores {
		if r == 0 || int64(r) == q || m.norms[r] == 0 || qn == 0 {
			scores[r] = -2
			continue
		}
		var dot int32
		for j, v := range m.emb[r*m.dim : (r+1)*m.dim] {
			dot += int32(v) * int32(qv[j])
		}
		scores[r] = float32(dot) / (qn * m.norms[r])
	}
}

// pre scores every known item for each user: [n·(items−1)] pairs.
func (m *Model) pre(req *sdk.InferRequest) ([]*tensor.Tensor, error) {
	in, err := sdkrt.Require(req, InUser)
	if err != nil {
		return nil, err
	}
	if _, err := sdkrt.IntParam(req, "k", DefaultK, 1, MaxK); err != nil {
		return nil, err
	}
	rows, _, err := m.users.Rows(in, MaxQueries)
	if err != nil {
		return nil, err
	}
	ni := m.items.Len() - 1 // row 0 is the unknown item
	u := tensor.NewI64(tensor.Shape{len(rows) * ni}, nil)
	it := tensor.NewI64(tensor.Shape{len(rows) * ni}, nil)
	for q, r := range rows {
		for i := range ni {
			u.I64[q*ni+i] = r
			it.I64[q*ni+i] = int64(i + 1)
		}
	}
	return []*tensor.Tensor{u, it}, nil
}

func (m *Model) post(outs []*tensor.Tensor, req *sdk.InferRequest) (*sdk.InferResponse, error) {
	k, err := sdkrt.IntParam(req, "k", DefaultK, 1, MaxK)
	if err != nil {
		return nil, err
	}
	ni := m.items.Len() - 1
	s := outs[0].F32
	n := len(s) / ni
	ids := make([]string, 0, n*k)
	top := make([]float32, 0, n*k)
	for q := range n {
		row := s[q*ni : (q+1)*ni]
		for _, i := range sdkrt.TopK(row, k) {
			ids = append(ids, m.items.Raw(int64(i+1)))
			top = append(top, row[i])
		}
	}
	return m.response(ids, top, n, k), nil
}

func (m *Model) response(ids []string, scores []float32, n, k int) *sdk.InferResponse {
	k = min(k, m.items.Len()-1)
	shape := []int64{int64(n), int64(k)}
	idt := sdkrt.BYTES(OutItemIDs, shape, ids)
	if m.items.Numeric {
		v := make([]int64, len(ids))
		for i, s := range ids {
			v[i], _ = strconv.ParseInt(s, 10, 64) // Numeric: every id parses
		}
		idt = sdkrt.INT64(OutItemIDs, shape, v)
	}
	outs := []sdk.Tensor{idt, sdkrt.FP32(OutScores, slices.Clone(shape), scores)}
	if m.titles != nil {
		t := make([]string, len(ids))
		for i, id := range ids {
			t[i] = m.titles[id]
		}
		outs = append(outs, sdkrt.BYTES(OutTitles, slices.Clone(shape), t))
	}
	return &sdk.InferResponse{Outputs: outs}
}
