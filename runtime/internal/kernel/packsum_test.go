package kernel

import (
	"math/rand/v2"
	"testing"
)

// TestRowSums checks the eight-at-a-time row sums and the −128 check
// against plain loops: every K tail, rows long enough to fold the 16-bit
// lanes several times, all −127 or all 127, and a −128 at every position
// class (in the words, in the tail).
func TestRowSums(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, k := range []int{0, 1, 7, 8, 9, 31, 32, 33, 64, 100, 2047, 2048, 2049, 5000} {
		for _, fillv := range []int{0, -127, 127, 1000} {
			n := 3
			w := make([]int8, n*k)
			for i := range w {
				switch fillv {
				case 1000:
					w[i] = int8(rng.IntN(255) - 127)
				default:
					w[i] = int8(fillv)
				}
			}
			for _, at := range []int{-1, 0, k/2 + 1, n*k - 1} {
				if at >= n*k {
					continue
				}
				v := append([]int8(nil), w...)
				if at >= 0 {
					v[at] = -128
				}
				sum, pre := make([]int32, n), make([]int32, n)
				got := rowSums(v, n, k, sum, pre)
				want := false
				for j := range n {
					var s, p int32
					for q, x := range v[j*k : (j+1)*k] {
						s += int32(x)
						if q < k&^31 {
							p += int32(x)
						}
						if x == -128 {
							want = true
						}
					}
					if sum[j] != s || pre[j] != p {
						t.Fatalf("k=%d fill=%d at=%d row %d: sum %d prefix %d, want %d %d", k, fillv, at, j, sum[j], pre[j], s, p)
					}
				}
				if got != want {
					t.Fatalf("k=%d fill=%d at=%d: min128 %v, want %v", k, fillv, at, got, want)
				}
			}
		}
	}
}

// TestTileInPlace checks the in-place tiling against tileI8.
func TestTileInPlace(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, s := range [][2]int{{16, 4}, {16, 8}, {32, 12}, {48, 132}, {64, 1024}} {
		n, k := s[0], s[1]
		w := make([]int8, n*k)
		for i := range w {
			w[i] = int8(rng.IntN(256) - 128)
		}
		want := tileI8(w, n, k)
		tileI8InPlace(w, n, k)
		for i := range w {
			if w[i] != want[i] {
				t.Fatalf("n=%d k=%d: byte %d = %d, want %d", n, k, i, w[i], want[i])
			}
		}
	}
}
