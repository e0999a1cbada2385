package recsys

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/tools/train"
)

// synth writes a small ratings set with structure: users and items fall
// in 4 taste groups; a user rates 20 items, mostly of its group (rated
// high) and a few of others (rated low), with item popularity skewed.
// Beside it: test_rows.txt (a random 20 %), loo_rows.txt (each user's
// last high rating) and loo_negatives.csv (19 unrated items per user).
func synth(t *testing.T) (dir string) {
	dir = t.TempDir()
	rng := rand.New(rand.NewPCG(7, 7))
	const users, items, groups, per = 120, 200, 4, 20
	var rows, test, loo []string
	negs := []string{"userId," + strings.Repeat("n,", 18) + "n"}
	for u := 0; u < users; u++ {
		rated := map[int]bool{}
		last := -1
		for len(rated) < per {
			var it int
			if rng.Float64() < 0.8 {
				it = groups*int(rng.ExpFloat64()*8)%items + u%groups // own group, popular first
			} else {
				it = rng.IntN(items)
			}
			it %= items
			if rated[it] {
				continue
			}
			rated[it] = true
			r := 2.0
			if it%groups == u%groups {
				r = 4.5
			}
			row := len(rows)
			rows = append(rows, fmt.Sprintf("%d,%d,%g,0", 10+u, 1000+it, r))
			if r >= 4 {
				last = row
			} else if rng.Float64() < 0.2 {
				test = append(test, fmt.Sprint(row))
			}
		}
		if last < 0 {
			continue
		}
		loo = append(loo, fmt.Sprint(last))
		n := []string{fmt.Sprint(10 + u)}
		for len(n) < 20 {
			it := rng.IntN(items)
			if !rated[it] {
				n = append(n, fmt.Sprint(1000+it))
			}
		}
		negs = append(negs, strings.Join(n, ","))
	}
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("ratings.csv", "\"userId\",\"movieId\",\"rating\",\"timestamp\"\n"+strings.Join(rows, "\n")+"\n")
	write("test_rows.txt", strings.Join(test, "\n")+"\n")
	write(LOORowsFile, strings.Join(loo, "\n")+"\n")
	write(LOONegativesFile, strings.Join(negs, "\n")+"\n")
	return dir
}

func TestFitLearns(t *testing.T) {
	dir := synth(t)
	o := train.FitOptions{Data: filepath.Join(dir, "ratings.csv"), TestRows: filepath.Join(dir, "test_rows.txt"), Seed: 3, Epochs: 15}
	tr, err := Fit(o)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Kind != train.Recommender || tr.MetricName != "hit_rate_at_10" || tr.Test.GroupSize != 20 {
		t.Fatalf("kind %s metric %s group %d", tr.Kind, tr.MetricName, tr.Test.GroupSize)
	}
	for _, q := range []bool{false, true} {
		fm, err := tr.Export(q, nil)
		if err != nil {
			t.Fatal(err)
		}
		m, _, err := train.EvalEngine(fm, tr.Kind, tr.Test)
		if err != nil {
			t.Fatal(err)
		}
		// Random ranking hits the top 10 of 20 half the time.
		if m["hit_rate_at_10"] < 0.8 {
			t.Errorf("int8 %v: hit rate %.3f, want ≥ 0.8 (random 0.5)", q, m["hit_rate_at_10"])
		}
		// The saved model rebuilds the same set for eval.
		set, kind, err := EvalSet(fm, o.Data, train.FitOptions{})
		if err != nil {
			t.Fatal(err)
		}
		m2, _, err := train.EvalEngine(fm, kind, set)
		if err != nil {
			t.Fatal(err)
		}
		if m2["hit_rate_at_10"] != m["hit_rate_at_10"] {
			t.Errorf("EvalSet hit rate %v, Fit's %v", m2["hit_rate_at_10"], m["hit_rate_at_10"])
		}
	}
	// Same seed, same bytes.
	tr2, err := Fit(o)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := tr.Export(true, nil)
	b, _ := tr2.Export(true, nil)
	if !reflect.DeepEqual(a.Tensors, b.Tensors) {
		t.Error("same seed gave different weights")
	}
}

func TestFitRatingsLearns(t *testing.T) {
	dir := synth(t)
	o := train.FitOptions{Data: filepath.Join(dir, "ratings.csv"), Seed: 1, Epochs: 100}
	res, err := FitRatingsWith(o, Rating)
	if err != nil {
		t.Fatal(err)
	}
	fm, err := res.Export(true, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Evaluate(fm, res.Kind, nil, res.Split)
	if err != nil {
		t.Fatal(err)
	}
	// Ratings are 2 or 4.5 by taste group: better than the mean of the
	// test ratings themselves, and ordering them well.
	var mean, sd float64
	for _, y := range res.Split.Y {
		mean += y / float64(len(res.Split.Y))
	}
	for _, y := range res.Split.Y {
		sd += (y - mean) * (y - mean) / float64(len(res.Split.Y))
	}
	if sd = math.Sqrt(sd); m["rmse"] > 0.9*sd || m["roc_auc"] < 0.85 {
		t.Errorf("rmse %.3f (test sd %.3f) roc_auc %.3f", m["rmse"], sd, m["roc_auc"])
	}
}

func TestUnknownIDs(t *testing.T) {
	dir := synth(t)
	o := train.FitOptions{Data: filepath.Join(dir, "ratings.csv"), TestRows: filepath.Join(dir, "test_rows.txt"), Seed: 1, Epochs: 2}
	tr, err := Fit(o)
	if err != nil {
		t.Fatal(err)
	}
	fm, err := tr.Export(true, nil)
	if err != nil {
		t.Fatal(err)
	}
	users, items, err := IDMaps(fm)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := items.Row("1000"); !ok || r < 1 {
		t.Errorf("known item 1000: row %d %v", r, ok)
	}
	if r, ok := users.Row("999999"); ok || r != UnknownRow {
		t.Errorf("unknown user: row %d %v", r, ok)
	}
	// A CSV with unknown users and items evaluates (reserved row).
	p := filepath.Join(t.TempDir(), "new.csv")
	os.WriteFile(p, []byte("userId,movieId,rating\n10,1000,5\n999999,1001,4\n10,77777,1\n999999,88888,2\n"), 0o644)
	set, kind, err := EvalSet(fm, p, train.FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := train.EvalEngine(fm, kind, set); err != nil {
		t.Fatal(err)
	}
	rec, err := NewRecommender(fm)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	for _, u := range []string{"10", "not-a-user"} {
		top, known, err := rec.TopK(u, 5, map[string]bool{"1000": true})
		if err != nil {
			t.Fatal(err)
		}
		if len(top) != 5 || known != (u == "10") {
			t.Fatalf("user %s: %d items, known %v", u, len(top), known)
		}
		for i, s := range top {
			if s.Item == "1000" || (i > 0 && s.Score > top[i-1].Score) {
				t.Fatalf("user %s: top %v", u, top)
			}
		}
	}
	// A bad row names its line, or is skipped when asked.
	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte("userId,movieId,rating\n1,2,5\n1,3,x\n"), 0o644)
	if _, _, err := ReadRatings(bad, train.FitOptions{}, true); err == nil || !strings.Contains(err.Error(), ":3:") {
		t.Errorf("bad rating: %v", err)
	}
	r, _, err := ReadRatings(bad, train.FitOptions{SkipBadRows: true}, true)
	if err != nil || r.Len() != 1 || r.Skipped != 1 {
		t.Errorf("skip: %v", err)
	}
}
