package kernel

import "testing"

// TestDefaultsFilled: an implementation that leaves kernels out gets the
// portable ones.
func TestDefaultsFilled(t *testing.T) {
	l := withDefaults([]Impl{impls[0], {Name: "bare"}})
	if l[1].DotF32 == nil || l[1].GemmI8 == nil || l[1].DequantRow == nil || l[1].DotsF32 == nil || l[1].MixF32 == nil {
		t.Fatal("defaults not filled")
	}
}
