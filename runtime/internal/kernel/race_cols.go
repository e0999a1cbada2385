//go:build race && (amd64 || arm64) && gc && !noasm && !purego

package kernel

// raceWriteCols tells the race detector that columns [n0, n1) of the m
// rows of c (row length n) are written, row by row: workers share a
// GEMM by columns, and one range from row 0 to row m−1 would cover the
// other workers' columns too and report a race that is not there.
func raceWriteCols[T any](c []T, m, n, n0, n1 int) {
	for i := 0; i < m; i++ {
		raceWrite(c[i*n+n0 : i*n+n1])
	}
}
