package textcls

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/tools/train"
)

// TestAcceptance trains the bundled text datasets with 3 seeds, prints the
// medians of the engine's f32 and int8 accuracy and the median epoch
// time, and fails when a median accuracy misses its goal or int8 loses
// more than one point (edgetrain fit's default --max-drop). `make accept`
// runs the bag models (25 s); set EDGERUN_ACCEPT=1 for those too, or a
// comma list of sentiment, banking77, sentiment-lstm, sentiment-gru (the
// recurrent ones take minutes). The goals sit a little below the figures
// below.
//
//	EDGERUN_ACCEPT=1 go test ./tools/train/textcls -run Acceptance -v -timeout 30m
//
// Measured on the 2-core development machine (medians of seeds 1-3,
// engine accuracy f32 / int8, median epoch incl. validation):
//
//	sentiment (bag)       0.8183 / 0.8200   206 ms/epoch, 1.9 s training
//	banking77 (bag)       0.9039 / 0.9039   643 ms/epoch, 10.8 s training
//	sentiment-lstm (64)   0.8033 / 0.8033   1.28 s/epoch (PyTorch: 1.7 s)
//	sentiment-gru (64)    0.7917 / 0.7933   1.08 s/epoch
func TestAcceptance(t *testing.T) {
	sel := os.Getenv("EDGERUN_ACCEPT")
	if sel == "" {
		t.Skip("set EDGERUN_ACCEPT=1 to train the bundled datasets")
	}
	root := "../../../data"
	sent := filepath.Join(root, "sentiment/uci_labelled_sentences")
	bank := filepath.Join(root, "intent/banking77")
	for _, tc := range []struct {
		name, dir, file, label string
		arch                   Arch
		goal                   float64 // the least median accuracy
	}{
		{"sentiment", sent, "uci_labelled_sentences.csv", "label", Bag, 0.80},
		{"banking77", bank, "banking77.csv", "intent", Bag, 0.88},
		{"sentiment-lstm", sent, "uci_labelled_sentences.csv", "label", LSTM, 0.78},
		{"sentiment-gru", sent, "uci_labelled_sentences.csv", "label", GRU, 0.77},
	} {
		if sel != "1" && !strings.Contains(","+sel+",", ","+tc.name+",") {
			continue
		}
		if sel == "1" && tc.arch != Bag {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			var f32, i8, epochMS, totalS []float64
			for _, seed := range []uint64{1, 2, 3} {
				o := train.FitOptions{Data: filepath.Join(tc.dir, tc.file), TestRows: filepath.Join(tc.dir, "test_rows.txt"),
					LabelCol: tc.label, Seed: seed, Logf: t.Logf}
				if testing.Verbose() {
					o.OnEpoch = func(s train.EpochStats) { t.Log(s.String("")) }
				}
				tr, err := FitWith(o, Defaults(tc.arch))
				if err != nil {
					t.Fatal(err)
				}
				var ms []float64
				var tot float64
				for _, h := range tr.History {
					ms = append(ms, float64(h.Duration.Microseconds())/1000)
					tot += h.Duration.Seconds()
				}
				epochMS = append(epochMS, median(ms))
				totalS = append(totalS, tot)
				line := fmt.Sprintf("seed %d: %d epochs, %.1f s", seed, len(tr.History), tot)
				for _, q := range []bool{false, true} {
					fm, err := tr.Export(q, nil)
					if err != nil {
						t.Fatal(err)
					}
					met, _, err := train.EvalEngine(fm, tr.Kind, tr.Test)
					if err != nil {
						t.Fatal(err)
					}
					if q {
						i8 = append(i8, met["accuracy"])
					} else {
						f32 = append(f32, met["accuracy"])
					}
					line += fmt.Sprintf("  int8=%v accuracy %.4f", q, met["accuracy"])
				}
				t.Log(line)
			}
			t.Logf("medians: f32 accuracy %.4f  int8 accuracy %.4f  epoch %.0f ms  training %.1f s", median(f32), median(i8), median(epochMS), median(totalS))
			if mf, mi := median(f32), median(i8); mf < tc.goal || mi < tc.goal {
				t.Errorf("%s: median accuracy f32 %.4f, int8 %.4f; goal at least %.2f", tc.name, mf, mi, tc.goal)
			} else if mf-mi > 0.01 {
				t.Errorf("%s: int8 loses %.4f accuracy (f32 %.4f, int8 %.4f); at most 0.01", tc.name, mf-mi, mf, mi)
			}
		})
	}
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
