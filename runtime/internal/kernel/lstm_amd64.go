//go:build amd64 && gc && !noasm && !purego

package kernel

// The assembly behind this declaration, lstm_avx512_amd64.s, is generated
// with avo by _genx86 (lstm_avx512.go, `make generate`).

// lstmCellAVX512 computes LSTMCell for len(h) a multiple of 8 (> 0; g at
// least 4·len(h), c at least len(h) long) in two vector passes (the gates
// and c, then h from c, four vectors in flight), leaving Sigmoid of the o
// gate in g[3·len(h):]. Reference: lstmCellGeneric.
//
//go:noescape
func lstmCellAVX512(g, h, c []float32)

// avx512LSTM sets the LSTM cell of the avx512vnni implementation:
// lstmCellAVX512 for a multiple of 8 state values, else the two-pass Go
// form over the AVX-512 activations.
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
		raceWrite(g[3*H:])
		raceRead(c)
		raceWrite(c)
		raceWrite(h)
		lstmCellAVX512(g, h, c)
	}
}

// The assembly behind this declaration, lstm_avx2_amd64.s, is generated
// with avo by _genx86 (lstm_avx2.go).

// lstmCellAVX2 computes LSTMCell for len(h) a multiple of 8 (> 0; g at
// least 4·len(h), c at least len(h) long) in one vector pass, leaving
// Sigmoid of the i and f gates in g[:2·len(h)]. Reference:
// lstmCellGeneric.
//
//go:noescape
func lstmCellAVX2(g, h, c []float32)

// lstmCellAVX2Tiles is LSTMCell with lstmCellAVX2 for a multiple of 8
// state values, else the two-pass form over the AVX2 activations.
func lstmCellAVX2Tiles(g, h, c []float32) {
	H := len(h)
	if H%8 != 0 {
		lstmCellAVX2Via(g, h, c)
		return
	}
	g, c = g[:4*H], c[:H]
	raceRead(g)
	raceWrite(g[:2*H])
	raceRead(c)
	raceWrite(c)
	raceWrite(h)
	lstmCellAVX2(g, h, c)
}

var lstmCellAVX2Via = lstmCellVia(sigmoidSliceAVX2, tanhSliceAVX2)
