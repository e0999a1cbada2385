package kernel

// LSTMCell updates one LSTM state row from its gate pre-activations g
// (H = len(h); g holds 4H values in gate order i, f, g, o and is scratch:
// an implementation may overwrite it; c holds H):
//
//	c[k] = float32(Sigmoid(f[k])·c[k]) + float32(Sigmoid(i[k])·Tanh(g[k]))
//	h[k] = float32(Sigmoid(o[k]) · Tanh(c[k]))   (with the new c)
//
// each product and the sum rounded on its own (no FMA), bit for bit on
// every implementation. It panics when g or c is too short.
func LSTMCell(g, h, c []float32) { impl.LSTMCell(g, h, c) }

// lstmCellGeneric is the reference LSTMCell.
var lstmCellGeneric = lstmCellVia(sigmoidSliceGeneric, tanhSliceGeneric)

// lstmCellVia is LSTMCell over an implementation's vector activations:
// the gates are activated in place in g, then two element-wise loops,
// written over re-sliced gates of equal length so the compiler drops
// their bounds checks, combine them.
func lstmCellVia(sigmoid, tanh func(dst, src []float32)) func(g, h, c []float32) {
	return func(g, h, c []float32) {
		H := len(h)
		g = g[:4*H]
		sigmoid(g[:2*H], g[:2*H]) // i, f
		tanh(g[2*H:3*H], g[2*H:3*H])
		sigmoid(g[3*H:], g[3*H:]) // o
		c = c[:H]
		ig, fg, gg, og := g[:len(c)], g[H:][:len(c)], g[2*H:][:len(c)], g[3*H:][:len(h)]
		for k, cv := range c {
			c[k] = float32(fg[k]*cv) + float32(ig[k]*gg[k])
		}
		tanh(h, c)
		for k, v := range h {
			h[k] = float32(og[k] * v)
		}
	}
}
