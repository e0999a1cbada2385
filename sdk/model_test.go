package sdk_test

import (
	"reflect"
	"testing"

	"github.com/edgerun/edgerun/sdk"
)

// TestBytesTensor: the helper builds a BYTES tensor of shape [n] that
// passes CheckTensor against a [-1] BYTES spec, with its bytes copied
// from the strings; no texts is an empty tensor, which CheckTensor refuses.
func TestBytesTensor(t *testing.T) {
	spec := sdk.TensorSpec{Name: "text", Datatype: sdk.BYTES, Shape: []int64{-1}}
	got := sdk.BytesTensor("text", "great phone", "", "é")
	want := sdk.Tensor{Name: "text", Datatype: sdk.BYTES, Shape: []int64{3},
		BYTES: [][]byte{[]byte("great phone"), {}, []byte("é")}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("BytesTensor = %+v, want %+v", got, want)
	}
	if err := sdk.CheckTensor(&got, spec); err != nil {
		t.Errorf("CheckTensor: %v", err)
	}
	empty := sdk.BytesTensor("text")
	if empty.Len() != 0 || len(empty.Shape) != 1 || empty.Shape[0] != 0 {
		t.Errorf("BytesTensor with no texts = %+v, want shape [0] and no data", empty)
	}
	if err := sdk.CheckTensor(&empty, spec); err == nil {
		t.Error("CheckTensor accepted an empty BYTES tensor")
	}
}
