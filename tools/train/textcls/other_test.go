package textcls

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/tools/train"
)

// TestOther: FitOptions.Other's lines join the training rows as the class
// OtherLabel (never the test split); blank lines are skipped; a missing
// or empty file is an error naming it.
func TestOther(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var b strings.Builder
	b.WriteString("text,label\n")
	for i := 0; i < 40; i++ {
		b.WriteString("great lovely good fine,pos\nbad awful poor sad,neg\n")
	}
	data := write("d.csv", b.String())
	other := write("other.txt", "hello there\n\nweather today\nhello there\nnice weather\n")
	tr, err := Fit(train.FitOptions{Data: data, Other: []string{other}, Epochs: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(tr.Labels, OtherLabel) || tr.Kind != train.Multiclass || len(tr.Labels) != 3 {
		t.Errorf("labels %v kind %s, want pos, neg and %s", tr.Labels, tr.Kind, OtherLabel)
	}
	if len(tr.Test.Y) != 16 { // 20 % of the 80 data rows; none of the other lines
		t.Errorf("%d test rows, want 16", len(tr.Test.Y))
	}
	for _, c := range []struct{ path, want string }{
		{filepath.Join(dir, "none.txt"), "none.txt"},
		{write("blank.txt", "\n  \n"), "no out-of-domain lines"},
	} {
		if _, err := Fit(train.FitOptions{Data: data, Other: []string{c.path}, Epochs: 1, Seed: 1}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", c.path, err, c.want)
		}
	}
}
