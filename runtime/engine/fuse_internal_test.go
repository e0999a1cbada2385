package engine

import (
	"testing"

	"github.com/edgerun/edgerun/runtime/engine/enginetest"
)

func TestFuseEmbeddingDot(t *testing.T) {
	for _, q := range []bool{false, true} {
		fm, err := enginetest.Build("recommender:users=20,items=30,dim=8", enginetest.Options{Int8: q})
		if err != nil {
			t.Fatal(err)
		}
		m, err := Load(fm)
		if err != nil {
			t.Fatal(err)
		}
		fused := false
		for _, n := range m.nodes {
			fused = fused || n.op == "EmbeddingDot"
		}
		if fused != q {
			t.Errorf("int8=%v: fused=%v (nodes %d)", q, fused, len(m.nodes))
		}
	}
}
