package tutor

import (
	"encoding/csv"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"testing"

	"github.com/edgerun/edgerun/plugins/builtin/internal/plugintest"
	"github.com/edgerun/edgerun/sdk/sdkrt"
	"github.com/klauspost/compress/zstd"
)

func newTracer(t testing.TB) *sdkrt.Tracer {
	t.Helper()
	em, err := sdkrt.Load(modelFile)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := sdkrt.NewTracer(em)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.Close)
	return tr
}

// TestStepAllocs: one answer through the embedded int8 model allocates
// nothing once warm.
func TestStepAllocs(t *testing.T) {
	tr := newTracer(t)
	s := tr.NewState()
	tr.Step(s, 0, true)
	i := 0
	if n := testing.AllocsPerRun(200, func() {
		i++
		if _, err := tr.Step(s, i%tr.Skills(), i%3 > 0); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("Step allocates %v times", n)
	}
}

// BenchmarkTutorStep is the device's cost of one learner's answer: one
// step of the embedded int8 model (B = 1, T = 1, the state in and out),
// one thread, as the plugin runs it.
func BenchmarkTutorStep(b *testing.B) {
	tr := newTracer(b)
	s := tr.NewState()
	tr.Step(s, 0, true)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := tr.Step(s, i%tr.Skills(), i%3 > 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e3, "µs/answer")
}

// TestFigures: the embedded model's test ROC AUC, accuracy and RMSE
// recorded in its file (int8, through the device engine, the state
// carried through each student's whole sequence) are what the Tracer
// gives on the bundled test students: every answer at position ≥ 1
// predicted from the answers before it, each student's history run by
// Replay (pieces of TracerChunk, the state carried).
func TestFigures(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the 856 test students")
	}
	f, err := os.Open(filepath.Join(plugintest.Root(), "data/education/assistments_2009/assistments_2009.csv.zst"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := zstd.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	r := csv.NewReader(zr)
	r.ReuseRecord = true
	if _, err := r.Read(); err != nil { // student,step,skill,correct,split (sorted by student, step)
		t.Fatal(err)
	}
	var seqs [][]sdkrt.Answer
	last := ""
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if rec[4] != "test" {
			continue
		}
		sk, err1 := strconv.Atoi(rec[2])
		if err1 != nil {
			t.Fatal(err1)
		}
		if rec[0] != last {
			seqs, last = append(seqs, nil), rec[0]
		}
		seqs[len(seqs)-1] = append(seqs[len(seqs)-1], sdkrt.Answer{Skill: sk, Correct: rec[3] == "1"})
	}
	tr := newTracer(t)
	k := tr.Skills()
	s := tr.NewState()
	var p, y []float64
	var all []float32
	for _, q := range seqs {
		if len(q) < 2 {
			continue
		}
		all = slices.Grow(all[:0], (len(q)-1)*k)[:(len(q)-1)*k]
		if _, err := tr.Replay(s, q[:len(q)-1], all); err != nil {
			t.Fatal(err)
		}
		for j := 1; j < len(q); j++ {
			v := 0.0
			if q[j].Correct {
				v = 1
			}
			p, y = append(p, float64(all[(j-1)*k+q[j].Skill])), append(y, v)
		}
	}
	got := map[string]float64{"roc_auc": rocAUC(p, y)}
	ok, se := 0, 0.0
	for i := range p {
		if (p[i] >= 0.5) == (y[i] == 1) {
			ok++
		}
		se += (p[i] - y[i]) * (p[i] - y[i])
	}
	got["accuracy"], got["rmse"] = float64(ok)/float64(len(p)), math.Sqrt(se/float64(len(p)))
	em, err := sdkrt.Load(modelFile)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, m := range em.Meta.Metrics {
		if m.Split != "test" || m.Variant != "int8" {
			continue
		}
		v, ok := got[m.Name]
		if !ok {
			continue
		}
		seen++
		t.Logf("%s: %.4f (the file says %.4f) over %d answers of %d students", m.Name, v, m.Value, len(p), len(seqs))
		if math.Abs(v-m.Value) > 1e-3 {
			t.Errorf("%s %.4f, the model file records %.4f", m.Name, v, m.Value)
		}
	}
	if seen != 3 {
		t.Errorf("the model file records %d of roc_auc, accuracy and rmse (test, int8)", seen)
	}
}

// rocAUC is the area under the ROC curve (ties count half).
func rocAUC(p, y []float64) float64 {
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	var pos, neg, rankSum float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && p[idx[j]] == p[idx[i]] {
			j++
		}
		rank := float64(i+j+1) / 2 // 1-based mean rank of the tie group
		for _, k := range idx[i:j] {
			if y[k] == 1 {
				rankSum += rank
				pos++
			} else {
				neg++
			}
		}
		i = j
	}
	if pos == 0 || neg == 0 {
		return 0.5
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}
