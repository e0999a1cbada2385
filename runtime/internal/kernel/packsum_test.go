package kernel

import (
	"math/rand/v2"
	"slices"
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

// TestPackI8Sums checks, under every implementation, that the row sums,
// prefix sums and −128 flag PackI8 and AdoptI8 keep are rowSums', over
// shapes the tiled panel kernel takes and shapes it leaves to the row
// sums (n not a multiple of 16, k not of 4, k below 32).
func TestPackI8Sums(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, im := range Impls() {
		restore, err := Use(im.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range [][2]int{{1, 5}, {3, 31}, {9, 64}, {16, 36}, {17, 100}, {32, 2048}, {37, 2051}, {48, 4}} {
			n, k := s[0], s[1]
			for _, neg := range []bool{false, true} {
				w := make([]int8, n*k)
				for i := range w {
					w[i] = int8(rng.IntN(255) - 127)
				}
				if neg {
					w[n*k-1-rng.IntN(n*k)] = -128
				}
				sum, pre := make([]int32, n), make([]int32, n)
				want := rowSums(w, n, k, sum, pre)
				for _, m := range []*MatI8{PackI8(w, n, k), AdoptI8(slices.Clone(w), n, k)} {
					if !slices.Equal(m.RowSum, sum) || !slices.Equal(m.prefixSum, pre) || m.hasMin128 != want {
						t.Fatalf("%s n=%d k=%d neg=%v: sums %v %v %v, want %v %v %v", im.Name, n, k, neg, m.RowSum, m.prefixSum, m.hasMin128, sum, pre, want)
					}
				}
			}
		}
		restore()
	}
}
