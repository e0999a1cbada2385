package sdkrt

import (
	"fmt"
	"strings"

	"github.com/edgerun/edgerun/runtime/engine"
)

// Extra returns a free-form metadata value by key.
func Extra(em *engine.Model, key string) (string, bool) {
	for _, kv := range em.Meta.Extra {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return "", false
}

// Provenance says where a model comes from, from its metadata: the
// producer, the dataset (when given), the data fingerprint and the test
// figures of the variant it runs (int8 when measured, else f32), e.g.
// "trained by edgetrain v1 on data/x.csv (sha256:09096fc55b5c…); test
// (int8): accuracy 0.823, roc_auc 0.907".
func Provenance(em *engine.Model, dataset string) string {
	md := &em.Meta
	var b strings.Builder
	b.WriteString("trained by ")
	if md.Producer.Name == "" {
		b.WriteString("an unknown producer")
	} else {
		b.WriteString(strings.TrimSpace(md.Producer.Name + " " + md.Producer.Version))
	}
	if dataset != "" {
		b.WriteString(" on " + dataset)
	}
	if fp := md.DataFingerprint; fp != "" {
		if len(fp) > 19 {
			fp = fp[:19] + "…"
		}
		b.WriteString(" (data " + fp + ")")
	}
	variant := "f32"
	for _, m := range md.Metrics {
		if m.Split == "test" && m.Variant == "int8" {
			variant = "int8"
			break
		}
	}
	var figs []string
	for _, m := range md.Metrics {
		if m.Split == "test" && m.Variant == variant {
			figs = append(figs, fmt.Sprintf("%s %.3f", m.Name, m.Value))
		}
	}
	if len(figs) > 0 {
		fmt.Fprintf(&b, "; test (%s): %s", variant, strings.Join(figs, ", "))
	}
	return b.String()
}
