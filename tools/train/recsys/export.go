package recsys

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/tensor"
	"github.com/edgerun/edgerun/tools/train"
)

// Metadata keys (format.Metadata.Extra) of a recsys model.
const (
	KeyKind      = "recsys.kind"       // "recommender" or "regression" (train.Kind)
	KeyUserCol   = "recsys.user_col"   // the CSV columns the model was trained on
	KeyItemCol   = "recsys.item_col"   //
	KeyRatingCol = "recsys.rating_col" //
	KeyPositive  = "recsys.positive"   // the rating threshold of a positive
	KeyUnknown   = "recsys.unknown_row"
)

// Graph input names; they are also the names of the two Features that
// carry the id maps.
const (
	InputUser = "user"
	InputItem = "item"
)

// export writes the graph
//
//	user_emb = Embedding(user, [U, D]); item_emb = Embedding(item, [I, D])
//	dot = Dot(user_emb, item_emb)
//	add_u = Add(dot, Embedding(user, user_bias [U, 1]))
//	add_i = Add(add_u, Embedding(item, item_bias [I, 1]))   (item_bias includes b)
//	score = Sigmoid(add_i)                                  (recommender only)
//
// The embedding tables go through train.Exporter.Matrix (int8 per row
// when quantizing); the bias tables stay f32.
//
// Id maps: Metadata.Features holds one categorical feature per input,
// "user" and "item", whose Categories are the raw ids in embedding-row
// order: Categories[0] is "<unknown>", the reserved row an id outside the
// map goes to (Impute = 0 says so), Categories[k] the raw id of row k.
func export(m *mf, users, items *IDMap, kind train.Kind, o train.FitOptions, int8 bool, keepF32 map[string]bool) (*format.Model, error) {
	e := train.NewExporter(int8)
	e.KeepF32 = keepF32
	e.M.Graph.Inputs = []format.ValueInfo{
		{Name: InputUser, DType: format.I64, Shape: []int64{-1}},
		{Name: InputItem, DType: format.I64, Shape: []int64{-1}},
	}
	d := m.D
	up := &train.Param{Name: "user_emb", Shape: []int{m.NU, d}, W: m.P}
	ip := &train.Param{Name: "item_emb", Shape: []int{m.NI, d}, W: m.Q}
	u := e.NodeNamed("user_emb", "Embedding", []string{InputUser, e.Matrix("user_emb/table", up)})
	v := e.NodeNamed("item_emb", "Embedding", []string{InputItem, e.Matrix("item_emb/table", ip)})
	dot := e.NodeNamed("dot", "Dot", []string{u, v})
	bi := make([]float64, m.NI)
	for i, b := range m.BI {
		bi[i] = b + m.B
	}
	bu := e.NodeNamed("user_bias", "Embedding", []string{InputUser, e.F32("user_bias/table", []int64{int64(m.NU), 1}, m.BU)})
	bit := e.NodeNamed("item_bias", "Embedding", []string{InputItem, e.F32("item_bias/table", []int64{int64(m.NI), 1}, bi)})
	s := e.NodeNamed("add_u", "Add", []string{dot, bu})
	s = e.NodeNamed("add_i", "Add", []string{s, bit})
	if kind == train.Recommender {
		s = e.NodeNamed("sigmoid", "Sigmoid", []string{s})
	}
	e.Output(s, 1)
	md := &e.M.Metadata
	md.Task = "recommendation"
	if kind == train.Regression {
		md.Task = "rating-regression"
	}
	md.Producer = format.Producer{Name: "edgetrain recommender", Version: "1"}
	md.Features = []format.Feature{idFeature(InputUser, users), idFeature(InputItem, items)}
	uc, ic, rc := cols(o)
	md.Extra = append(md.Extra,
		format.KeyValue{Key: KeyItemCol, Value: ic},
		format.KeyValue{Key: KeyKind, Value: string(kind)},
		format.KeyValue{Key: KeyPositive, Value: strconv.FormatFloat(PositiveThreshold, 'g', -1, 64)},
		format.KeyValue{Key: KeyRatingCol, Value: rc},
		format.KeyValue{Key: KeyUnknown, Value: strconv.Itoa(UnknownRow)},
		format.KeyValue{Key: KeyUserCol, Value: uc},
	)
	sort.Slice(md.Extra, func(a, b int) bool { return md.Extra[a].Key < md.Extra[b].Key })
	return e.Finish()
}

func idFeature(name string, m *IDMap) format.Feature {
	cats := make([]string, 0, m.Rows())
	cats = append(cats, UnknownName)
	cats = append(cats, m.IDs...)
	return format.Feature{Name: name, Kind: "categorical", Impute: UnknownRow, Categories: cats}
}

// IDMaps reads the user and item id maps of a recsys model.
func IDMaps(fm *format.Model) (users, items *IDMap, err error) {
	get := func(name string) (*IDMap, error) {
		for _, f := range fm.Metadata.Features {
			if f.Name == name && f.Kind == "categorical" {
				if len(f.Categories) == 0 || f.Categories[0] != UnknownName {
					return nil, fmt.Errorf("recsys: feature %q does not start with the reserved %q row", name, UnknownName)
				}
				return idMapOf(f.Categories[1:]), nil
			}
		}
		return nil, fmt.Errorf("recsys: the model has no %q id map (not a recommender model?)", name)
	}
	if users, err = get(InputUser); err != nil {
		return nil, nil, err
	}
	if items, err = get(InputItem); err != nil {
		return nil, nil, err
	}
	return users, items, nil
}

// ModelKind is the train.Kind a recsys model was exported as.
func ModelKind(fm *format.Model) (train.Kind, error) {
	for _, kv := range fm.Metadata.Extra {
		if kv.Key == KeyKind {
			switch k := train.Kind(kv.Value); k {
			case train.Recommender, train.Regression:
				return k, nil
			}
			return "", fmt.Errorf("recsys: unknown %s %q", KeyKind, kv.Value)
		}
	}
	return "", fmt.Errorf("recsys: the model has no %s metadata (not a recommender model?)", KeyKind)
}

func extra(fm *format.Model, key string) string {
	for _, kv := range fm.Metadata.Extra {
		if kv.Key == key {
			return kv.Value
		}
	}
	return ""
}

// EvalSet rebuilds the engine inputs for a ratings CSV from a saved model
// (for `edgetrain eval`). Column names come from o when set, else from the
// model's metadata. The rows are every row of the CSV, or those listed
// in o.TestRows. For a regressor the targets are the ratings (rmse).
// For a recommender, when loo_rows.txt and loo_negatives.csv are beside
// the CSV the set is the leave-one-out groups (hit_rate_at_10);
// otherwise the targets are rating ≥ 4 (roc_auc). EvalSets returns both.
// Ids the model does not know map to the reserved row; their count is
// logged.
func EvalSet(fm *format.Model, csvPath string, o train.FitOptions) (*train.EvalSet, train.Kind, error) {
	loo, split, kind, err := EvalSets(fm, csvPath, o)
	if err != nil {
		return nil, "", err
	}
	if loo != nil {
		return loo, kind, nil
	}
	return split, kind, nil
}

// EvalSets is EvalSet giving both sets of a recommender: the LOO groups
// (nil without the LOO files, always nil for a regressor) and the rows.
func EvalSets(fm *format.Model, csvPath string, o train.FitOptions) (loo, split *train.EvalSet, kind train.Kind, err error) {
	if kind, err = ModelKind(fm); err != nil {
		return nil, nil, "", err
	}
	users, items, err := IDMaps(fm)
	if err != nil {
		return nil, nil, "", err
	}
	if o.UserCol == "" {
		o.UserCol = extra(fm, KeyUserCol)
	}
	if o.ItemCol == "" {
		o.ItemCol = extra(fm, KeyItemCol)
	}
	if o.RatingCol == "" {
		o.RatingCol = extra(fm, KeyRatingCol)
	}
	r, rowIdx, err := ReadRatings(csvPath, o, true)
	if err != nil {
		return nil, nil, "", err
	}
	p := &prepared{r: r, users: users, items: items, uid: users.rows(r.Users), iid: items.rows(r.Items)}
	var keep map[int]bool
	if o.TestRows != "" {
		if keep, err = train.ReadTestRows(o.TestRows); err != nil {
			return nil, nil, "", err
		}
	}
	p.testR = &Ratings{}
	var unknown int
	for k, row := range rowIdx {
		if keep != nil && !keep[row] {
			continue
		}
		p.testR.Users = append(p.testR.Users, r.Users[k])
		p.testR.Items = append(p.testR.Items, r.Items[k])
		p.testR.Rating = append(p.testR.Rating, r.Rating[k])
		if p.uid[k] == UnknownRow || p.iid[k] == UnknownRow {
			unknown++
		}
	}
	if p.testR.Len() == 0 {
		return nil, nil, "", fmt.Errorf("recsys: %s: no rows to evaluate", csvPath)
	}
	if unknown > 0 {
		o.Log("%s: %d of %d rows have a user or item the model does not know (scored with the reserved row)", csvPath, unknown, p.testR.Len())
	}
	p.testU, p.testI = users.rows(p.testR.Users), items.rows(p.testR.Items)
	split = splitSet(p, kind)
	if kind == train.Recommender {
		if p.loo, err = FindLOO(csvPath); err != nil {
			return nil, nil, "", err
		}
		if p.loo != nil {
			pos := map[int]int{}
			for k, row := range rowIdx {
				pos[row] = k
			}
			for _, row := range p.loo.Rows {
				if k, ok := pos[row]; ok {
					p.looKeep = append(p.looKeep, k)
				}
			}
			if loo, err = looSet(p); err != nil {
				return nil, nil, "", err
			}
		}
	}
	return loo, split, kind, nil
}

// Evaluate runs a recsys model's test sets through the engine and merges
// their metrics: hit_rate_at_10 from the LOO groups; from the split,
// roc_auc of the score for rating ≥ 4 (recommender), or rmse and the
// roc_auc of the predicted rating for rating ≥ 4 (regressor). Either set
// may be nil.
func Evaluate(fm *format.Model, kind train.Kind, loo, split *train.EvalSet, opts ...engine.Option) (train.Metrics, error) {
	out := train.Metrics{}
	if split != nil {
		m, _, err := train.EvalEngine(fm, kind, split, opts...)
		if err != nil {
			return nil, err
		}
		for k, v := range m {
			out[k] = v
		}
		if kind == train.Regression {
			sc, err := Scores(fm, split, opts...)
			if err != nil {
				return nil, err
			}
			y := make([]float64, len(split.Y))
			for k, r := range split.Y {
				if r >= PositiveThreshold {
					y[k] = 1
				}
			}
			out["roc_auc"] = train.ROCAUC(sc, y)
		}
	}
	if loo != nil {
		m, _, err := train.EvalEngine(fm, kind, loo, opts...)
		if err != nil {
			return nil, err
		}
		out["hit_rate_at_10"] = m["hit_rate_at_10"]
		if split == nil {
			out["roc_auc_loo"] = m["roc_auc"]
		}
	}
	return out, nil
}

// Scores runs set through the engine and returns the model's output per
// row; an output that is NaN or ±Inf is an error (train.ErrNonFinite).
func Scores(fm *format.Model, set *train.EvalSet, opts ...engine.Option) ([]float64, error) {
	m, err := engine.Load(fm)
	if err != nil {
		return nil, err
	}
	s := m.NewSession(opts...)
	defer s.Close()
	var sc []float64
	for _, in := range set.Batches {
		res, err := s.Run(in)
		if err != nil {
			return nil, err
		}
		for _, v := range res[0].F32 {
			sc = append(sc, float64(v))
		}
	}
	if err := train.CheckFinite(sc, 1); err != nil {
		return nil, err
	}
	return sc, nil
}

// Scored is one recommended item.
type Scored struct {
	Item  string
	Score float64
}

// Recommender ranks items for a user with a loaded model.
type Recommender struct {
	Users, Items *IDMap
	s            *engine.Session
	u, i         *tensor.Tensor
}

// NewRecommender loads fm into the engine for TopK.
func NewRecommender(fm *format.Model) (*Recommender, error) {
	users, items, err := IDMaps(fm)
	if err != nil {
		return nil, err
	}
	m, err := engine.Load(fm)
	if err != nil {
		return nil, err
	}
	n := items.Rows() - 1
	r := &Recommender{Users: users, Items: items, s: m.NewSession(),
		u: tensor.NewI64(tensor.Shape{n}, nil), i: tensor.NewI64(tensor.Shape{n}, nil)}
	for k := range r.i.I64 {
		r.i.I64[k] = int64(k + 1)
	}
	return r, nil
}

// Close releases the session.
func (r *Recommender) Close() { r.s.Close() }

// TopK scores every known item for the raw user id in one engine run and
// returns the k best, skipping the raw item ids in exclude (e.g. what the
// user has rated). An unknown user gets the reserved row: items ranked by
// their bias (popularity); known reports whether the user was known.
func (r *Recommender) TopK(user string, k int, exclude map[string]bool) (top []Scored, known bool, err error) {
	row, known := r.Users.Row(user)
	for j := range r.u.I64 {
		r.u.I64[j] = int64(row)
	}
	out, err := r.s.Run([]*tensor.Tensor{r.u, r.i})
	if err != nil {
		return nil, known, err
	}
	sc := out[0].F32
	idx := make([]int, 0, len(sc))
	for j := range sc {
		if !exclude[r.Items.IDs[j]] {
			idx = append(idx, j)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return sc[idx[a]] > sc[idx[b]] })
	for _, j := range idx[:min(k, len(idx))] {
		top = append(top, Scored{Item: r.Items.IDs[j], Score: float64(sc[j])})
	}
	return top, known, nil
}
