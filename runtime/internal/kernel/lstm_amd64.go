//go:build amd64 && gc && !noasm && !purego

package kernel

// The assembly behind this declaration, lstm_avx512_amd64.s, is generated
// with avo by _genx86 (lstm_avx512.go, `make generate`).

// lstmCellAVX512 computes LSTMCell for len(h) a multiple of 8 (> 0; g at
// least 4·len(h), c at least len(h) long) in one vector pass, reading g
// only. Reference: lstmCellGeneric.
//
//go:noescape
func lstmCellAVX512(g, h, c []float32)

// avx512LSTM sets the LSTM cell of the avx512vnni implementation: one
// pass for a multiple of 8 state values, else the two-pass form over the
// AVX-512 activations.
func avx512LSTM(im *Impl) {
	via := lstmCellVia(sigmoidSliceAVX512, tanhSliceAVX512)
	im.LSTMCell = func(g, h, c []float32) {
		H := len(h)
		if H%8 != 0 {
			via(g, h, c)
			return
		}
		g, c = g[:4*H], c[:H]
		raceRead(g)
		raceRead(c)
		raceWrite(c)
		raceWrite(h)
		lstmCellAVX512(g, h, c)
	}
}
