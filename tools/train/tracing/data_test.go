package tracing

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/tools/train"
)

const bundled = "../../../data/education/assistments_2009/assistments_2009.csv.zst"

// TestReadBundled: the bundled log reads as its README counts it, and the
// per-skill mean baseline scores what the README's Python reference
// measured on the same split (AUC 0.6169, accuracy 0.6952, RMSE 0.4540
// over 116,711 scored answers).
func TestReadBundled(t *testing.T) {
	d, err := Read(bundled, DefaultColumns)
	if err != nil {
		t.Fatal(err)
	}
	var tr, te, teRows int
	for i := range d.Seqs {
		if d.Seqs[i].Test {
			te++
			teRows += d.Seqs[i].Len()
		} else {
			tr++
		}
	}
	if d.Rows != 525534 || len(d.Seqs) != 4217 || tr != 3361 || te != 856 || teRows != 117567 || d.Skills != 124 || !d.HasSplit {
		t.Fatalf("%d rows, %d sequences (%d train, %d test, %d test rows), %d skills", d.Rows, len(d.Seqs), tr, te, teRows, d.Skills)
	}
	m := FitSkillMean(d, func(s *Sequence) bool { return !s.Test })
	p := m.Predict(d, func(s *Sequence) bool { return s.Test })
	var ok int
	var se float64
	for i, v := range p.P {
		if (v >= 0.5) == (p.Y[i] == 1) {
			ok++
		}
		se += (v - p.Y[i]) * (v - p.Y[i])
	}
	auc, acc, rmse := train.ROCAUC(p.P, p.Y), float64(ok)/float64(len(p.P)), math.Sqrt(se/float64(len(p.P)))
	t.Logf("per-skill mean: %d scored, AUC %.4f, accuracy %.4f, RMSE %.4f", len(p.P), auc, acc, rmse)
	if len(p.P) != 116711 || math.Abs(auc-0.6169) > 5e-4 || math.Abs(acc-0.6952) > 5e-4 || math.Abs(rmse-0.4540) > 5e-4 {
		t.Errorf("per-skill mean: %d scored, AUC %.4f, accuracy %.4f, RMSE %.4f; the reference: 116711, 0.6169, 0.6952, 0.4540", len(p.P), auc, acc, rmse)
	}
}

func TestReadOrderAndErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.csv")
	os.WriteFile(p, []byte("student,step,skill,correct\nb,2,5,1\na,0,1,0\nb,0,3,0\nb,1,4,true\n"), 0o644)
	d, err := Read(p, DefaultColumns)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Seqs) != 2 || d.Seqs[0].Student != "b" || d.Seqs[0].Skills[0] != 3 || d.Seqs[0].Skills[2] != 5 || !d.Seqs[0].Correct[1] || d.HasSplit || d.Skills != 6 {
		t.Fatalf("%+v", d)
	}
	for name, body := range map[string]string{
		"noskill":  "student,correct\na,1\n",
		"badskill": "student,skill,correct\na,x,1\n",
		"negskill": "student,skill,correct\na,-1,1\n",
		"badok":    "student,skill,correct\na,1,2\n",
		"badsplit": "student,skill,correct,split\na,1,1,dev\n",
		"twosplit": "student,skill,correct,split\na,1,1,train\na,1,0,test\n",
		"empty":    "",
		"norows":   "student,skill,correct\n",
		"badorder": "student,step,skill,correct\na,x,1,1\n",
	} {
		p := filepath.Join(dir, name+".csv")
		os.WriteFile(p, []byte(body), 0o644)
		if _, err := Read(p, DefaultColumns); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
