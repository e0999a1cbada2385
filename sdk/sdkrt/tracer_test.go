package sdkrt_test

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/sdkrt"
)

// tracingModel is a small f32 Deep Knowledge Tracing graph with random
// weights, as tools/train/tracing exports it: K skills, state size H.
func tracingModel(k, h int, seed uint64) *format.Model {
	rng := rand.New(rand.NewPCG(seed, 17))
	const e = 6
	w := func(n int, scale float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * scale)
		}
		return v
	}
	ki, hi := int64(k), int64(h)
	return &format.Model{
		Graph: format.Graph{
			Inputs: []format.ValueInfo{
				{Name: "answers", DType: format.I64, Shape: []int64{-1, -1}},
				{Name: "h_in", DType: format.F32, Shape: []int64{-1, hi}},
				{Name: "c_in", DType: format.F32, Shape: []int64{-1, hi}},
			},
			Outputs: []format.ValueInfo{
				{Name: "p_correct", DType: format.F32, Shape: []int64{-1, -1, ki}},
				{Name: "h_out", DType: format.F32, Shape: []int64{-1, hi}},
				{Name: "c_out", DType: format.F32, Shape: []int64{-1, hi}},
			},
			Nodes: []format.Node{
				{Name: "embedding", Op: "Embedding", Inputs: []string{"answers", "table"}, Outputs: []string{"x"}},
				{Name: "mask", Op: "PadMask", Inputs: []string{"answers"}, Outputs: []string{"m"}, Attrs: []format.Attr{attr("pad", 0)}},
				{Name: "lstm", Op: "LSTM", Inputs: []string{"x", "w_ih", "w_hh", "b", "", "", "", "m", "h_in", "c_in"},
					Outputs: []string{"y", "h_out", "c_out"}, Attrs: []format.Attr{attr("hidden", h), attr("return", "sequence")}},
				{Name: "dense", Op: "Dense", Inputs: []string{"y", "w", "bias"}, Outputs: []string{"p_correct"}, Attrs: []format.Attr{attr("activation", "sigmoid")}},
			},
		},
		Tensors: []format.Tensor{
			format.NewF32("table", []int64{1 + 2*ki, e}, w((1+2*k)*e, 1)),
			format.NewF32("w_ih", []int64{4 * hi, e}, w(4*h*e, 0.5)),
			format.NewF32("w_hh", []int64{4 * hi, hi}, w(4*h*h, 0.3)),
			format.NewF32("b", []int64{4 * hi}, w(4*h, 0.1)),
			format.NewF32("w", []int64{ki, hi}, w(k*h, 1)),
			format.NewF32("bias", []int64{ki}, w(k, 0.2)),
		},
		Metadata: format.Metadata{Task: sdkrt.TracingTask, Producer: format.Producer{Name: "sdkrt-test", Version: "1"},
			DataFingerprint: "seed-" + strconv.FormatUint(seed, 10),
			Extra:           []format.KeyValue{{Key: sdkrt.TracingHidden, Value: strconv.Itoa(h)}, {Key: sdkrt.TracingSkills, Value: strconv.Itoa(k)}}},
	}
}

const traceK, traceH = 5, 8

func newTracer(t testing.TB, seed uint64) *sdkrt.Tracer {
	t.Helper()
	tr, err := sdkrt.NewTracer(load(t, tracingModel(traceK, traceH, seed)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.Close)
	return tr
}

func history(n int, seed uint64) []sdkrt.Answer {
	rng := rand.New(rand.NewPCG(seed, 3))
	a := make([]sdkrt.Answer, n)
	for i := range a {
		a[i] = sdkrt.Answer{Skill: rng.IntN(traceK), Correct: rng.IntN(3) > 0}
	}
	return a
}

func closeTo(a, b []float32, tol float64) int {
	if len(a) != len(b) {
		return 0
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > tol {
			return i
		}
	}
	return -1
}

// TestTracerStepMatchesReplay: answer by answer (Step), in pieces
// (Update) and all at once (Replay, one run per TracerChunk, padded) give
// the same mastery after every answer and the same final state.
func TestTracerStepMatchesReplay(t *testing.T) {
	tr := newTracer(t, 1)
	hist := history(2*sdkrt.TracerChunk+45, 2) // three pieces, the last padded to 64
	k := tr.Skills()

	stepped := tr.NewState()
	each := make([]float32, 0, len(hist)*k)
	for _, a := range hist {
		m, err := tr.Step(stepped, a.Skill, a.Correct)
		if err != nil {
			t.Fatal(err)
		}
		each = append(each, m...)
	}
	whole := tr.NewState()
	all := make([]float32, len(hist)*k)
	m, err := tr.Replay(whole, hist, all)
	if err != nil {
		t.Fatal(err)
	}
	if i := closeTo(all, each, 1e-5); i >= 0 {
		t.Fatalf("answer %d skill %d: replayed %v, stepped %v", i/k, i%k, all[i], each[i])
	}
	if i := closeTo(m, stepped.Mastery(), 1e-5); i >= 0 || whole.Answers() != stepped.Answers() || whole.Answers() != int64(len(hist)) {
		t.Fatalf("final mastery %v (%d answers), stepped %v (%d)", m, whole.Answers(), stepped.Mastery(), stepped.Answers())
	}
	// In pieces: 1, 2, 3, 130, the rest.
	parts := tr.NewState()
	for _, cut := range [][2]int{{0, 1}, {1, 3}, {3, 6}, {6, 136}, {136, len(hist)}} {
		if _, err := tr.Update(parts, hist[cut[0]:cut[1]], nil); err != nil {
			t.Fatal(err)
		}
	}
	if i := closeTo(parts.Mastery(), stepped.Mastery(), 1e-5); i >= 0 || parts.Answers() != int64(len(hist)) {
		t.Fatalf("in pieces %v, stepped %v", parts.Mastery(), stepped.Mastery())
	}
	// The next step from each state agrees too (the LSTM state matches).
	a, _ := tr.Step(whole, 3, true)
	b, _ := tr.Step(stepped, 3, true)
	if i := closeTo(a, b, 1e-5); i >= 0 {
		t.Fatalf("next step: %v vs %v", a, b)
	}
	// Replay restarts: the same history again gives the same figures.
	again := make([]float32, len(all))
	if _, err := tr.Replay(whole, hist, again); err != nil || closeTo(again, all, 0) >= 0 || whole.Answers() != int64(len(hist)) {
		t.Fatalf("replay over a used state: %v, answers %d", err, whole.Answers())
	}
	// Correct answers on a skill raise its mastery (random weights, so
	// only the plainest check: 20 right answers vs 20 wrong ones).
	right, wrong := tr.NewState(), tr.NewState()
	for range 20 {
		tr.Step(right, 2, true)
		tr.Step(wrong, 2, false)
	}
	t.Logf("mastery of skill 2 after 20 right answers %.3f, 20 wrong %.3f", right.Mastery()[2], wrong.Mastery()[2])
}

// TestTracerStateRoundTrip: a state through MarshalBinary and
// UnmarshalBinary (into another Tracer's new state, or a zero one) gives
// exactly the next step's output of the original.
func TestTracerStateRoundTrip(t *testing.T) {
	tr, other := newTracer(t, 1), newTracer(t, 1)
	s := tr.NewState()
	if _, err := tr.Update(s, history(37, 5), nil); err != nil {
		t.Fatal(err)
	}
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if want := 36 + 4*(2*traceH+traceK); len(b) != want || tr.StateSize() != want {
		t.Fatalf("state of %d bytes (StateSize %d), want %d", len(b), tr.StateSize(), want)
	}
	back := other.NewState()
	if err := back.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	var zero sdkrt.TracingState
	if err := zero.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if back.Answers() != 37 || zero.Answers() != 37 || zero.Fingerprint() != tr.Fingerprint() {
		t.Fatalf("answers %d %d, fingerprint %x", back.Answers(), zero.Answers(), zero.Fingerprint())
	}
	want, _ := tr.Step(s, 4, false)
	for _, c := range []*sdkrt.TracingState{back, &zero} {
		got, err := other.Step(c, 4, false)
		if err != nil {
			t.Fatal(err)
		}
		if i := closeTo(got, want, 0); i >= 0 {
			t.Fatalf("after the round trip skill %d: %v, want %v exactly", i, got[i], want[i])
		}
	}
	b2, _ := back.MarshalBinary()
	b3, _ := s.MarshalBinary()
	if !bytes.Equal(b2, b3) {
		t.Fatal("the states differ after the same step")
	}
	// A new learner's state round-trips too.
	nb, _ := tr.NewState().MarshalBinary()
	n := tr.NewState()
	if err := n.UnmarshalBinary(nb); err != nil || n.Answers() != 0 || n.Mastery() != nil {
		t.Fatalf("new state: %v, %d answers, mastery %v", err, n.Answers(), n.Mastery())
	}
	if testing.AllocsPerRun(20, func() { _ = back.UnmarshalBinary(b) }) != 0 {
		t.Error("UnmarshalBinary into a state of the model allocates")
	}
}

// TestTracerErrors: bad skills are invalid input naming the range, a state
// of another model or corrupt bytes are refused, and nothing changes the
// state on an error.
func TestTracerErrors(t *testing.T) {
	tr, other := newTracer(t, 1), newTracer(t, 2)
	if tr.Fingerprint() == other.Fingerprint() {
		t.Fatal("two models with the same fingerprint")
	}
	s := tr.NewState()
	tr.Update(s, history(9, 1), nil)
	before, _ := s.MarshalBinary()
	for _, skill := range []int{-1, traceK, math.MaxInt32} {
		if _, err := tr.Step(s, skill, true); !errors.Is(err, sdk.ErrInvalidInput) || !strings.Contains(err.Error(), "skills 0 to 4") {
			t.Errorf("skill %d: %v", skill, err)
		}
	}
	bad := append(history(5, 1), sdkrt.Answer{Skill: traceK})
	if _, err := tr.Update(s, bad, nil); !errors.Is(err, sdk.ErrInvalidInput) {
		t.Errorf("Update with a bad skill: %v", err)
	}
	if _, err := tr.Replay(s, bad, nil); !errors.Is(err, sdk.ErrInvalidInput) {
		t.Errorf("Replay with a bad skill: %v", err)
	}
	if _, err := tr.Update(s, history(3, 1), make([]float32, 2)); err == nil {
		t.Error("Update with a short all: no error")
	}
	if _, err := other.Step(s, 1, true); !errors.Is(err, sdkrt.ErrStateModel) {
		t.Errorf("a state of another model: %v", err)
	}
	if after, _ := s.MarshalBinary(); !bytes.Equal(after, before) {
		t.Fatal("a refused update changed the state")
	}
	if err := other.NewState().UnmarshalBinary(before); !errors.Is(err, sdkrt.ErrStateModel) {
		t.Errorf("unmarshal into another model's state: %v", err)
	}
	bigger, err := sdkrt.NewTracer(load(t, tracingModel(traceK+1, traceH, 1)))
	if err != nil {
		t.Fatal(err)
	}
	defer bigger.Close()
	if err := bigger.NewState().UnmarshalBinary(before); !errors.Is(err, sdkrt.ErrStateModel) {
		t.Errorf("unmarshal into a model with another K: %v", err)
	}
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(before)) }
	for name, b := range map[string][]byte{
		"empty":     nil,
		"truncated": before[:len(before)-1],
		"longer":    append(bytes.Clone(before), 0),
		"flipped":   edit(func(b []byte) []byte { b[40] ^= 1; return b }),
		"magic":     edit(func(b []byte) []byte { b[0] = 'X'; return b }),
		"version":   edit(func(b []byte) []byte { b[4] = 2; return b }),
		"huge_h":    edit(func(b []byte) []byte { b[19] = 0x7f; return b }),
	} {
		s2 := tr.NewState()
		if err := s2.UnmarshalBinary(b); !errors.Is(err, sdkrt.ErrStateCorrupt) {
			t.Errorf("%s: %v, want ErrStateCorrupt", name, err)
		}
		if s2.Answers() != 0 {
			t.Errorf("%s: the refused state changed", name)
		}
	}
	if _, err := sdkrt.NewTracer(load(t, textModel())); err == nil || !strings.Contains(err.Error(), "knowledge-tracing") {
		t.Errorf("a text model: %v", err)
	}
	noSkills := tracingModel(traceK, traceH, 1)
	noSkills.Metadata.Extra = noSkills.Metadata.Extra[:1]
	if _, err := sdkrt.NewTracer(load(t, noSkills)); err == nil || !strings.Contains(err.Error(), sdkrt.TracingSkills) {
		t.Errorf("no skills in the metadata: %v", err)
	}
}

// TestTracerStepAllocs: a warm Step allocates nothing.
func TestTracerStepAllocs(t *testing.T) {
	tr := newTracer(t, 1)
	s := tr.NewState()
	tr.Step(s, 0, true)
	i := 0
	if n := testing.AllocsPerRun(200, func() {
		i++
		if _, err := tr.Step(s, i%traceK, i%3 == 0); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("Step allocates %v times", n)
	}
	// Update's pieces too, once each padded length has run.
	h := history(40, 9)
	tr.Update(s, h, nil)
	if n := testing.AllocsPerRun(20, func() { tr.Update(s, h, nil) }); n != 0 {
		t.Fatalf("Update allocates %v times", n)
	}
}

// FuzzTracingState: UnmarshalBinary never panics, refuses what it cannot
// read with ErrStateCorrupt or ErrStateModel, and what it reads
// marshals back to the same bytes.
func FuzzTracingState(f *testing.F) {
	tr := newTracer(f, 1)
	s := tr.NewState()
	tr.Update(s, history(7, 1), nil)
	b, _ := s.MarshalBinary()
	f.Add(b)
	f.Add(b[:40])
	f.Add([]byte("EKTS"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, into := range []*sdkrt.TracingState{tr.NewState(), {}} {
			err := into.UnmarshalBinary(data)
			if err != nil {
				if !errors.Is(err, sdkrt.ErrStateCorrupt) && !errors.Is(err, sdkrt.ErrStateModel) {
					t.Fatalf("error %v is neither ErrStateCorrupt nor ErrStateModel", err)
				}
				continue
			}
			out, err := into.MarshalBinary()
			if err != nil || !bytes.Equal(out, data) {
				t.Fatalf("round trip: %v, %x vs %x", err, out, data)
			}
		}
	})
}

// BenchmarkTracerStep is one answer through the small f32 model (the
// built-in tutor plugin's BenchmarkTutorStep runs its int8 model).
func BenchmarkTracerStep(b *testing.B) {
	tr := newTracer(b, 1)
	s := tr.NewState()
	tr.Step(s, 0, true)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := tr.Step(s, i%traceK, i%3 == 0); err != nil {
			b.Fatal(err)
		}
	}
}
