package tabular

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/tools/train"
)

// TestAcceptance trains the bundled datasets with 3 seeds, prints the
// medians of the engine's f32 and int8 figures and fails when a median
// misses its goal, or when int8 loses more than maxDrop on a metric. It
// takes 15 s on the 2-core development machine; `make accept` runs it (or
// set EDGERUN_ACCEPT=1, or a comma list of dataset names).
//
//	EDGERUN_ACCEPT=1 go test ./tools/train/tabular -run Acceptance -v -timeout 30m
//
// The goals sit a little below the medians measured there (seeds 1-3,
// f32 = int8 to the fourth decimal): digits accuracy 0.9833; wdbc
// accuracy 0.9737, ROC AUC 0.9970; lending ROC AUC 0.7382, PR AUC 0.1230
// (5.2 % positives: a random ranking scores 0.05).
func TestAcceptance(t *testing.T) {
	sel := os.Getenv("EDGERUN_ACCEPT")
	if sel == "" {
		t.Skip("set EDGERUN_ACCEPT=1 to train the bundled datasets")
	}
	root := "../../../data"
	for _, tc := range []struct {
		name, dir, file, target string
		image                   bool
		metrics                 []string
		goals                   []float64 // the least median of each metric
	}{
		{"digits", "image/digits_8x8", "digits_8x8.csv", "label", true, []string{"accuracy"}, []float64{0.97}},
		{"wdbc", "medical/breast_cancer_wdbc", "breast_cancer_wdbc.csv", "diagnosis", false, []string{"accuracy", "roc_auc"}, []float64{0.95, 0.99}},
		{"lending", "fraud_risk/lending_club", "lending_club.csv", "Class", false, []string{"roc_auc", "pr_auc"}, []float64{0.70, 0.10}},
	} {
		if sel != "1" && !strings.Contains(","+sel+",", ","+tc.name+",") {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			vals := map[string][]float64{}
			var epochMS []float64
			for _, seed := range []uint64{1, 2, 3} {
				o := train.FitOptions{Data: filepath.Join(root, tc.dir, tc.file), TestRows: filepath.Join(root, tc.dir, "test_rows.txt"),
					Target: tc.target, Seed: seed}
				fitf := Fit
				if tc.image {
					fitf = FitImage
				}
				tr, err := fitf(o)
				if err != nil {
					t.Fatal(err)
				}
				var ms []float64
				for _, h := range tr.History {
					ms = append(ms, float64(h.Duration.Microseconds())/1000)
				}
				epochMS = append(epochMS, median(ms))
				line := fmt.Sprintf("seed %d: %d epochs (best %d)", seed, len(tr.History), bestEpoch(tr.History))
				for _, q := range []bool{false, true} {
					fm, err := tr.Export(q, nil)
					if err != nil {
						t.Fatal(err)
					}
					met, _, err := train.EvalEngine(fm, tr.Kind, tr.Test)
					if err != nil {
						t.Fatal(err)
					}
					v := "f32"
					if q {
						v = "int8"
					}
					for _, k := range tc.metrics {
						vals[v+" "+k] = append(vals[v+" "+k], met[k])
						line += fmt.Sprintf("  %s %s %.4f", v, k, met[k])
					}
				}
				t.Log(line)
			}
			var keys []string
			for k := range vals {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			out := "medians:"
			for _, k := range keys {
				out += fmt.Sprintf("  %s %.4f", k, median(vals[k]))
			}
			t.Log(out + "  epoch " + strconv.FormatFloat(median(epochMS), 'f', 1, 64) + " ms")
			for i, k := range tc.metrics {
				f32, i8 := median(vals["f32 "+k]), median(vals["int8 "+k])
				if f32 < tc.goals[i] || i8 < tc.goals[i] {
					t.Errorf("%s: median %s f32 %.4f, int8 %.4f; goal at least %.2f", tc.name, k, f32, i8, tc.goals[i])
				}
				if f32-i8 > maxDrop {
					t.Errorf("%s: int8 loses %.4f %s (f32 %.4f, int8 %.4f); at most %.2f", tc.name, f32-i8, k, f32, i8, maxDrop)
				}
			}
		})
	}
}

// maxDrop is what int8 may lose against f32 on any metric in the
// acceptance runs: one point, edgetrain fit's default --max-drop.
const maxDrop = 0.01

func bestEpoch(h []train.EpochStats) int {
	b := 0
	for _, s := range h {
		if s.Best {
			b = s.Epoch
		}
	}
	return b
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
