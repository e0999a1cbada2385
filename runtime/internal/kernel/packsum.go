package kernel

import (
	"encoding/binary"
	"unsafe"
)

// bytesOf views w as bytes (same memory).
func bytesOf(w []int8) []byte {
	if len(w) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&w[0])), len(w))
}

// rowSums sets, for each of the n rows of w (n×k, row-major), sum[j] =
// Σ w[j][p] and prefix[j] = the same over p < k rounded down to 32, and
// reports whether any weight is −128. It reads eight weights a step:
// each byte biased by +128 (x ^ 0x80) is 0..255, the even and odd bytes
// add into 16-bit lanes (two bytes a lane a step, at most 128 steps
// before they are folded, so none overflows), and a biased byte of 0 is
// a −128.
func rowSums(w []int8, n, k int, sum, prefix []int32) (min128 bool) {
	b := bytesOf(w[:n*k])
	kf := k &^ 31
	const bias, lo8 = 0x8080808080808080, 0x00ff00ff00ff00ff
	var zero uint64 // has-zero-byte flags of the biased words
	span := func(r []byte) int32 {
		var s int32
		for len(r) >= 8 {
			steps := min(len(r)/8, 128)
			var acc uint64
			for i := 0; i < steps; i++ {
				x := binary.LittleEndian.Uint64(r[8*i:]) ^ bias
				zero |= (x - 0x0101010101010101) &^ x & bias
				acc += x&lo8 + x>>8&lo8
			}
			acc = acc&0x0000ffff0000ffff + acc>>16&0x0000ffff0000ffff
			s += int32(acc&0xffffffff+acc>>32) - int32(128*8*steps)
			r = r[8*steps:]
		}
		for _, v := range r {
			s += int32(int8(v))
			if v == 0x80 {
				min128 = true
			}
		}
		return s
	}
	for j := range n {
		row := b[j*k : (j+1)*k]
		p := span(row[:kf])
		prefix[j] = p
		sum[j] = p + span(row[kf:])
	}
	return min128 || zero != 0
}

// tileI8InPlace rearranges w (n×k, row-major, n a multiple of 16 and k of
// 4) into the tile layout of tileI8 in place: with no padding, panel j/16
// of the tile layout holds exactly the bytes rows j..j+15 held, so one
// panel-sized scratch is all the extra memory loading needs. Four bytes
// (one row's share of a tile) move at a time.
func tileI8InPlace(w []int8, n, k int) {
	ps := 16 * k
	buf := make([]byte, ps)
	b := bytesOf(w[:n*k])
	for j0 := 0; j0 < n; j0 += 16 {
		panel := b[j0*k : j0*k+ps]
		copy(buf, panel)
		for r := range 16 {
			row := buf[r*k : (r+1)*k]
			dst := panel[r*4:]
			for p := 0; p+4 <= len(row); p += 4 {
				binary.LittleEndian.PutUint32(dst[p*16:], binary.LittleEndian.Uint32(row[p:]))
			}
		}
	}
}

// tileSumsI8 is packI8's rowSums and tiling (tileI8InPlace when own, else
// tileI8) in one pass over w (n×k, row-major, n > 0 a multiple of 16, k >
// 0 of 4), one 16-row panel at a time through pack (Impl.tilePanelI8). It
// sets sum and prefix as rowSums does and returns the tiled matrix and
// whether any weight is −128. When own, the tiles replace w's bytes
// through a one-panel scratch copy and the result is w; otherwise w is
// only read and the tiles go into a new n·k buffer (with n and k so
// aligned the tile layout needs no padding).
func tileSumsI8(pack func(dst, src []int8, k int, sum, prefix []int32) bool, w []int8, n, k int, own bool, sum, prefix []int32) ([]int8, bool) {
	ps := 16 * k
	w = w[:n*k]
	dst := w
	var buf []int8
	if own {
		buf = make([]int8, ps)
	} else {
		dst = make([]int8, n*k)
	}
	min128 := false
	for j0 := 0; j0 < n; j0 += 16 {
		src := w[j0*k : j0*k+ps]
		if own {
			copy(buf, src)
			src = buf
		}
		if pack(dst[j0*k:j0*k+ps], src, k, sum[j0:j0+16], prefix[j0:j0+16]) {
			min128 = true
		}
	}
	return dst, min128
}
