package train

import (
	"math"
	"math/rand/v2"
	"sort"
)

// StratifiedSplit splits the indices 0..len(y)−1 into (1−share, share),
// drawing the same share from every class (every distinct y; one group
// when regression), seeded by rng; a class of two or more keeps at least
// one index on each side. Both lists come back sorted.
func StratifiedSplit(rng *rand.Rand, y []float64, share float64, regression bool) (rest, held []int) {
	groups := map[float64][]int{}
	var keys []float64
	for i, v := range y {
		k := v
		if regression {
			k = 0
		}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], i)
	}
	sort.Float64s(keys)
	for _, k := range keys {
		g := groups[k]
		rng.Shuffle(len(g), func(i, j int) { g[i], g[j] = g[j], g[i] })
		n := int(math.Round(share * float64(len(g))))
		if n >= len(g) && len(g) > 1 {
			n = len(g) - 1
		}
		held = append(held, g[:n]...)
		rest = append(rest, g[n:]...)
	}
	sort.Ints(rest)
	sort.Ints(held)
	return rest, held
}
