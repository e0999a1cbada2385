package op

import (
	"testing"

	"github.com/edgerun/edgerun/runtime/tensor"
)

// TestPerSample checks the answers that depend on the inputs: Concat only
// along an axis other than 0, the last-axis reducers only with a dim 0
// apart from that axis.
func TestPerSample(t *testing.T) {
	d := func(shape ...int) []Desc {
		return []Desc{{DType: tensor.F32, Shape: shape}, {DType: tensor.F32, Shape: shape}}
	}
	for _, tc := range []struct {
		name string
		k    PerSample
		in   []Desc
		want bool
	}{
		{"concat axis 0", &concatOp{axis: 0}, d(4, 3), false},
		{"concat axis -2 of rank 2", &concatOp{axis: -2}, d(4, 3), false},
		{"concat axis -1", &concatOp{axis: -1}, d(4, 3), true},
		{"concat axis 1", &concatOp{axis: 1}, d(4, 3, 2), true},
		{"concat axis out of range", &concatOp{axis: 3}, d(4, 3), false},
		{"softmax rank 1", softmaxOp{}, d(4), false},
		{"softmax rank 2", softmaxOp{}, d(4, 3), true},
		{"layernorm rank 1", &layerNorm{}, d(4), false},
		{"dot rank 1", dotOp{}, d(4), false},
		{"dot rank 2", dotOp{}, d(4, 3), true},
		{"dense rank 2", &dense{}, d(4, 3), true},
		{"relu rank 1", &actOp{}, d(4), true},
	} {
		if got := tc.k.PerSample(tc.in); got != tc.want {
			t.Errorf("%s: PerSample = %v, want %v", tc.name, got, tc.want)
		}
	}
}
