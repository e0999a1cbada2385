package recsys

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/edgerun/edgerun/tools/train"
)

// TestAcceptance trains both models on movielens_small with three seeds
// and prints the engine figures (f32 and int8) and their medians. It
// takes a minute; set RECSYS_ACCEPT=1 to run it.
func TestAcceptance(t *testing.T) {
	if os.Getenv("RECSYS_ACCEPT") == "" {
		t.Skip("set RECSYS_ACCEPT=1 to train on movielens_small")
	}
	dir := filepath.Join("..", "..", "..", "data", "recommendation", "movielens_small")
	o := train.FitOptions{Data: filepath.Join(dir, "ratings.csv"), TestRows: filepath.Join(dir, "test_rows.txt")}
	figs := map[string][]float64{}
	for seed := uint64(1); seed <= 3; seed++ {
		o.Seed = seed
		var ep []time.Duration
		o.OnEpoch = func(s train.EpochStats) { ep = append(ep, s.Duration) }
		res, err := FitWith(o, Implicit)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("seed %d implicit: %d epochs (watched, then liked part), last loss %.4f, epochs %v", seed, len(res.History), res.History[len(res.History)-1].Loss, ep)
		for _, q := range []bool{false, true} {
			fm, err := res.Export(q, nil)
			if err != nil {
				t.Fatal(err)
			}
			m, err := Evaluate(fm, res.Kind, res.LOO, res.Split)
			if err != nil {
				t.Fatal(err)
			}
			v := "f32"
			if q {
				v = "int8"
			}
			t.Logf("seed %d implicit %s: hit_rate_at_10 %.4f roc_auc %.4f", seed, v, m["hit_rate_at_10"], m["roc_auc"])
			figs["hr_"+v] = append(figs["hr_"+v], m["hit_rate_at_10"])
			figs["auc_"+v] = append(figs["auc_"+v], m["roc_auc"])
		}
		ep = nil
		rr, err := FitRatingsWith(o, Rating)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("seed %d rating: %d epochs, last mse %.4f, epochs %v", seed, len(rr.History), rr.History[len(rr.History)-1].Loss, ep)
		for _, q := range []bool{false, true} {
			fm, err := rr.Export(q, nil)
			if err != nil {
				t.Fatal(err)
			}
			m, err := Evaluate(fm, rr.Kind, nil, rr.Split)
			if err != nil {
				t.Fatal(err)
			}
			v := "f32"
			if q {
				v = "int8"
			}
			t.Logf("seed %d rating %s: rmse %.4f roc_auc %.4f", seed, v, m["rmse"], m["roc_auc"])
			figs["rmse_"+v] = append(figs["rmse_"+v], m["rmse"])
			figs["rating_auc_"+v] = append(figs["rating_auc_"+v], m["roc_auc"])
		}
	}
	med := func(v []float64) float64 {
		v = append([]float64(nil), v...)
		sort.Float64s(v)
		return v[len(v)/2]
	}
	keys := make([]string, 0, len(figs))
	for k := range figs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("median %s %.4f %v", k, med(figs[k]), figs[k])
	}
}
