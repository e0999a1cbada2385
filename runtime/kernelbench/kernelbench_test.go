package kernelbench

import (
	"math"
	"testing"
	"time"
)

func TestRoof(t *testing.T) {
	one := Roof("f32", 10*time.Millisecond, 1)
	two := Roof("f32", 10*time.Millisecond, 2)
	if !(one > 0) || !(two > 0) { // measurements, not speed requirements
		t.Errorf("f32 roof: 1 thread %v, 2 threads %v", one, two)
	}
	if r := Roof("int8", time.Millisecond, 0); !(r > 0) {
		t.Errorf("int8 roof with threads=0: %v", r)
	}
	if r := Roof("f16", time.Millisecond, 1); r != 0 {
		t.Errorf("f16 roof %v, want 0", r)
	}
}

// TestGemm checks the split runs compute the product: every output
// against a float64 sum (int8 exactly, from the quantized activations).
func TestGemm(t *testing.T) {
	for _, dt := range []string{"int8", "f32"} {
		for _, tc := range []struct {
			threads int
			park    bool
		}{{1, false}, {2, false}, {3, false}, {8, false}, {2, true}, {3, true}} {
			threads := tc.threads
			g, err := NewGemm(dt, 5, 37, 70, threads, tc.park)
			if err != nil {
				t.Fatal(err)
			}
			g.Run()
			g.Run()
			if !tc.park && threads == 2 {
				// Let the worker give up spinning and park: Multiply
				// must wake it.
				time.Sleep(SpinFor + 5*time.Millisecond)
				clear(g.c8)
				clear(g.c32)
				g.Run()
			}
			g.Close()
			g.Close()
			if want := min(threads, 3); threads <= 3 && g.Parts() != want {
				t.Errorf("%s threads=%d: %d parts, want %d", dt, threads, g.Parts(), want)
			}
			if g.Ops() != 2*5*37*70 {
				t.Errorf("Ops() = %v", g.Ops())
			}
			var row []int8
			for i := 0; i < g.M; i++ {
				for j := 0; j < g.N; j++ {
					if dt == "int8" {
						row = g.w8.Row(j, row) // Data may be in a kernel's own layout
						var s int32
						for p := 0; p < g.K; p++ {
							s += int32(g.q[i*g.K+p]) * int32(row[p])
						}
						if g.c8[i*g.N+j] != s {
							t.Fatalf("int8 threads=%d: c[%d][%d]=%d want %d", threads, i, j, g.c8[i*g.N+j], s)
						}
						continue
					}
					var s, abs float64
					for p := 0; p < g.K; p++ {
						v := float64(g.x[i*g.K+p]) * float64(g.w32.Data[j*g.K+p])
						s += v
						abs += math.Abs(v)
					}
					if d := math.Abs(float64(g.c32[i*g.N+j]) - s); d > 1e-5*abs {
						t.Fatalf("f32 threads=%d: c[%d][%d]=%v want %v", threads, i, j, g.c32[i*g.N+j], s)
					}
				}
			}
		}
	}
}

func TestNewGemmErrors(t *testing.T) {
	for _, tc := range []struct {
		dt      string
		m, k, n int
	}{{"f16", 1, 1, 1}, {"int8", 0, 1, 1}, {"f32", 1, -1, 1}, {"f32", 1 << 20, 1 << 20, 1}} {
		if _, err := NewGemm(tc.dt, tc.m, tc.k, tc.n, 1, false); err == nil {
			t.Errorf("NewGemm(%q, %d, %d, %d) succeeded", tc.dt, tc.m, tc.k, tc.n)
		}
	}
}
