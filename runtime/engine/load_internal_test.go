package engine

import (
	"math"
	"testing"
	"unsafe"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/tensor"
)

// TestConvTensor: a file tensor converts to the same values whether Load
// takes its bytes (shared when aligned, copied when not) or copies them;
// a copy does not change when the file's bytes do, a taken aligned
// tensor shares them; f16 widens.
func TestConvTensor(t *testing.T) {
	f32 := []float32{1.5, -2, float32(math.Inf(1)), 0, 3.25e-9, float32(math.Copysign(0, -1))}
	i32 := []int32{1, -1, math.MaxInt32, math.MinInt32, 0, 7}
	i64 := []int64{1, -1, math.MaxInt64, math.MinInt64, 0, 7}
	i8 := []int8{1, -1, 127, -128, 0, 7}
	cases := []format.Tensor{
		format.NewF32("f", []int64{2, 3}, f32),
		format.NewI32("i", []int64{6}, i32),
		format.NewI64("l", []int64{3, 2}, i64),
		format.NewI8("b", []int64{6}, i8, nil),
		{Name: "u", DType: format.U8, Shape: []int64{6}, Data: []byte{0, 1, 2, 253, 254, 255}},
	}
	check := func(name string, ft *format.Tensor, got []byte) {
		t.Helper()
		if string(got) != string(ft.Data) {
			t.Errorf("%s: converted bytes % x, want % x", name, got, ft.Data)
		}
	}
	for i := range cases {
		ft := &cases[i]
		for _, mode := range []string{"copy", "take", "take-misaligned"} {
			src := *ft
			switch mode {
			case "copy", "take":
				src.Data = append(make([]byte, 0, len(ft.Data)+8), ft.Data...)
			case "take-misaligned":
				buf := make([]byte, len(ft.Data)+8) // 8-aligned: a size class
				src.Data = buf[1 : 1+len(ft.Data)]
				copy(src.Data, ft.Data)
			}
			tt, err := convTensor(&src, mode != "copy")
			if err != nil {
				t.Fatalf("%s/%s: %v", ft.Name, mode, err)
			}
			got := tensorBytes(tt)
			check(ft.Name+"/"+mode, ft, got)
			shared := &got[0] == &src.Data[0]
			wantShared := mode == "take" || mode == "take-misaligned" && ft.DType.Size() == 1
			if shared != wantShared {
				t.Errorf("%s/%s: shares the file's bytes: %v, want %v", ft.Name, mode, shared, wantShared)
			}
			src.Data[0] ^= 0xff
			if mode == "copy" && tensorBytes(tt)[0] != ft.Data[0] {
				t.Errorf("%s/copy: changes with the file's bytes", ft.Name)
			}
		}
	}
	h := format.Tensor{Name: "h", DType: format.F16, Shape: []int64{3}, Data: []byte{0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00}}
	tt, err := convTensor(&h, true)
	if err != nil {
		t.Fatal(err)
	}
	if want := []float32{1, -2, float32(math.Ldexp(1, -24))}; tt.F32[0] != want[0] || tt.F32[1] != want[1] || tt.F32[2] != want[2] {
		t.Errorf("f16: %v, want %v", tt.F32, want)
	}
}

// tensorBytes views a converted tensor's slice as its bytes.
func tensorBytes(t *tensor.Tensor) []byte {
	switch t.DType {
	case tensor.F32:
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(t.F32))), 4*len(t.F32))
	case tensor.I32:
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(t.I32))), 4*len(t.I32))
	case tensor.I64:
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(t.I64))), 8*len(t.I64))
	case tensor.I8:
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(t.I8))), len(t.I8))
	case tensor.U8:
		return t.U8
	}
	return nil
}
