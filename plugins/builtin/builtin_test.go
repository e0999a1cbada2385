package builtin_test

import (
	"context"
	"slices"
	"testing"

	"github.com/edgerun/edgerun/plugins/builtin"
)

func TestDomains(t *testing.T) {
	want := []string{"diagnose", "intent", "kws", "maintenance", "recommend", "risk", "sentiment", "tutor"}
	if got := builtin.Domains(); !slices.Equal(got, want) {
		t.Fatalf("Domains() = %v, want %v", got, want)
	}
	for _, name := range want {
		m, err := builtin.New(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		d, err := m.Describe(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if d.Name != name || d.Domain != name || d.Provenance == "" || d.Summary == "" {
			t.Errorf("%s: description %q %q %q", name, d.Name, d.Domain, d.Provenance)
		}
		if err := m.Health(context.Background()); err != nil {
			t.Errorf("%s: health %v", name, err)
		}
		t.Logf("%s: %s", name, d.Provenance)
	}
	if _, err := builtin.New("weather"); err == nil {
		t.Error("unknown domain: no error")
	}
}
