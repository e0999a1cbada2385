package op

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/edgerun/edgerun/runtime/internal/kernel"
	"github.com/edgerun/edgerun/runtime/quant"
	"github.com/edgerun/edgerun/runtime/tensor"
)

func randF32(rng *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64() * scale)
	}
	return v
}

// denseRef is an independent float64 reference: y = act(x·Wᵀ + b).
func denseRef(x, w, b []float32, m, n, k int, act string) []float64 {
	y := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s := 0.0
			for p := 0; p < k; p++ {
				s += float64(x[i*k+p]) * float64(w[j*k+p])
			}
			if b != nil {
				s += float64(b[j])
			}
			switch act {
			case "relu":
				s = math.Max(s, 0)
			case "sigmoid":
				s = 1 / (1 + math.Exp(-s))
			case "tanh":
				s = math.Tanh(s)
			case "gelu":
				s = 0.5 * s * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(s+0.044715*s*s*s)))
			}
			y[i*n+j] = s
		}
	}
	return y
}

func TestDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		m, k, n int
		act     string
		bias    bool
	}{
		{1, 1, 1, "", false}, {1, 7, 3, "relu", true}, {3, 17, 33, "sigmoid", true},
		{5, 64, 10, "tanh", true}, {64, 33, 65, "gelu", false}, {2, 300, 257, "", true},
		{64, 300, 10, "gelu", true}, // narrow and tall: rows split among workers
	} {
		for _, q := range []bool{false, true} {
			for _, workers := range []int{1, 3} {
				name := fmt.Sprintf("m=%d,k=%d,n=%d,%s,bias=%v,int8=%v,workers=%d", tc.m, tc.k, tc.n, tc.act, tc.bias, q, workers)
				t.Run(name, func(t *testing.T) {
					x := randF32(rng, tc.m*tc.k, 1)
					w := randF32(rng, tc.n*tc.k, 1/math.Sqrt(float64(tc.k)))
					var b []float32
					inputs := []Input{dyn("x")}
					if q {
						qw, sc := quant.SymmetricRows(w, tc.n, tc.k)
						inputs = append(inputs, Input{Name: "w", Present: true, Const: &Const{Name: "w", T: &tensor.Tensor{DType: tensor.I8, Shape: tensor.Shape{tc.n, tc.k}, I8: qw}, Scales: sc, Axis: 0}})
					} else {
						inputs = append(inputs, f32Const("w", tensor.Shape{tc.n, tc.k}, w))
					}
					if tc.bias {
						b = randF32(rng, tc.n, 1)
						inputs = append(inputs, f32Const("b", tensor.Shape{tc.n}, b))
					}
					node := &Node{Name: "d", Op: "Dense", Inputs: inputs, Outputs: 1,
						Attrs: map[string]Attr{"activation": {Kind: AttrString, String: tc.act}}}
					out := runNode(t, node, workers, tensor.NewF32(tensor.Shape{tc.m, tc.k}, x))[0]
					want := denseRef(x, w, b, tc.m, tc.n, tc.k, tc.act)
					// f32: accumulated rounding only. int8: per-row activation
					// steps of range/255 and weight steps of max/127.
					tol := 1e-4 * math.Sqrt(float64(tc.k))
					if q {
						tol = 0.1 // documented int8 tolerance for unit-scale layers
					}
					for i, v := range out.F32 {
						if d := math.Abs(float64(v) - want[i]); d > tol {
							t.Fatalf("y[%d] = %v, want %v (|diff| %.3g > %.3g)", i, v, want[i], d, tol)
						}
					}
				})
			}
		}
	}
}

func TestBuildRefusesUnknown(t *testing.T) {
	if _, err := Build(&Node{Name: "n", Op: "Frobnicate"}); err == nil {
		t.Error("unknown op accepted")
	}
	n := &Node{Name: "d", Op: "Dense", Inputs: []Input{dyn("x"), f32Const("w", tensor.Shape{1, 1}, []float32{1})},
		Attrs: map[string]Attr{"colour": {Kind: AttrString, String: "red"}}}
	if _, err := Build(n); err == nil {
		t.Error("unknown attribute accepted")
	}
}

// TestLinearSharedBySessions runs one int8 Dense kernel — as a loaded
// Model holds it, weights adopted (Const.Own) and no f32 copy asked for —
// from two sessions at once, one in f32 (Ctx.Int8Off) and one in int8,
// each with its own state, on every kernel implementation. Each session
// gets its own right answer, run after run, and the shared kernel stays
// byte for byte what Build made: an f32 session dequantizes into its own
// state, never into the model (run with -race).
func TestLinearSharedBySessions(t *testing.T) {
	const m, k, n = 4, 300, 257
	rng := rand.New(rand.NewPCG(3, 4))
	x := randF32(rng, m*k, 1)
	w := randF32(rng, n*k, 1/math.Sqrt(k))
	b := randF32(rng, n, 1)
	qw, sc := quant.SymmetricRows(w, n, k)
	deq := make([]float32, n*k)
	for j := range n {
		for p := range k {
			deq[j*k+p] = float32(qw[j*k+p]) * sc[j]
		}
	}
	wantF32 := denseRef(x, deq, b, m, n, k, "relu")
	wantI8 := denseRef(x, w, b, m, n, k, "relu")
	for _, im := range kernel.Impls() {
		t.Run(im.Name, func(t *testing.T) {
			restore, err := kernel.Use(im.Name)
			if err != nil {
				t.Fatal(err)
			}
			defer restore()
			wt := &tensor.Tensor{DType: tensor.I8, Shape: tensor.Shape{n, k}, I8: append([]int8(nil), qw...)}
			node := &Node{Name: "d", Op: "Dense", Outputs: 1,
				Inputs: []Input{dyn("x"), {Name: "w", Present: true, Const: &Const{Name: "w", T: wt, Scales: sc, Axis: 0, Own: true}},
					f32Const("b", tensor.Shape{n}, b)},
				Attrs: map[string]Attr{"activation": {Kind: AttrString, String: "relu"}}}
			kn, err := Build(node)
			if err != nil {
				t.Fatal(err)
			}
			lin := kn.(*dense).lin
			snapshot := func() string { return fmt.Sprintf("%+v\n%+v\n%+v", *lin, *lin.I8, lin.f32) }
			before := snapshot()
			if lin.f32 != nil {
				t.Fatal("an int8 Linear built without Const.Dequant holds f32 weights")
			}
			session := func(int8Off bool) *cvRig {
				full, descs := slotInputs(node, []*tensor.Tensor{tensor.NewF32(tensor.Shape{m, k}, x)})
				od, scr, err := kn.Plan(descs)
				if err != nil {
					t.Fatal(err)
				}
				return &cvRig{k: kn, in: full, out: []*tensor.Tensor{tensor.NewF32(od[0].Shape, nil)},
					ctx: &Ctx{Par: testPool{3}, F32: make([]float32, scr.F32), U8: make([]uint8, scr.U8),
						I32: make([]int32, scr.I32), Int8Off: int8Off, State: kn.(Stateful).NewState()}}
			}
			f32s, i8s := session(true), session(false)
			check := func(r *cvRig, want []float64, tol float64, what string) error {
				for run := range 4 {
					if err := r.k.Run(r.ctx, r.in, r.out); err != nil {
						return err
					}
					for i, v := range r.out[0].F32 {
						if d := math.Abs(float64(v) - want[i]); d > tol {
							return fmt.Errorf("%s session, run %d: y[%d] = %v, want %v (|diff| %.3g > %.3g)", what, run, i, v, want[i], d, tol)
						}
					}
				}
				return nil
			}
			var wg sync.WaitGroup
			errs := make([]error, 2)
			wg.Add(2)
			go func() { defer wg.Done(); errs[0] = check(f32s, wantF32, 1e-4*math.Sqrt(k), "f32") }()
			go func() { defer wg.Done(); errs[1] = check(i8s, wantI8, 0.1, "int8") }()
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Error(err)
				}
			}
			if after := snapshot(); after != before {
				t.Errorf("running sessions changed the shared kernel:\nbefore %.300s\nafter  %.300s", before, after)
			}
		})
	}
}
