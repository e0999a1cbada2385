//go:build amd64 && gc && !noasm && !purego

package kernel

// The assembly behind this declaration, pack_avx512_amd64.s, is generated
// with avo by _genx86 (pack_avx512.go, `make generate`).

// tilePanelI8Z packs one 16-row panel for k > 0 a multiple of 4: with src
// the panel (16×k, row-major, at least 16·k bytes), dst at least 16·k
// bytes not overlapping src, and sum and prefix at least 16 long,
//
//	dst[(p/4)·64 + r·4 + p%4] = src[r·k + p]     (r < 16, p < k)
//	sum[r] = Σ_{p<k} src[r·k+p],  prefix[r] = Σ_{p<k&^31} src[r·k+p]
//
// and it reports whether a src byte is −128. No byte of src past 16·k is
// read nor of dst past 16·k written. Reference: rowSums and tileI8.
//
//go:noescape
func tilePanelI8Z(dst, src []int8, k int, sum, prefix []int32) (min128 bool)

// tilePanelI8Checked is tilePanelI8Z with its bounds checked (a short
// slice panics) and its memory told to the race detector: the avx512vnni
// Impl's tilePanelI8.
func tilePanelI8Checked(dst, src []int8, k int, sum, prefix []int32) bool {
	if k <= 0 || k%4 != 0 {
		panic("kernel: tilePanelI8 needs k > 0 a multiple of 4")
	}
	dst, src, sum, prefix = dst[:16*k], src[:16*k], sum[:16], prefix[:16]
	raceRead(src)
	raceWrite(dst)
	raceWrite(sum)
	raceWrite(prefix)
	return tilePanelI8Z(dst, src, k, sum, prefix)
}
