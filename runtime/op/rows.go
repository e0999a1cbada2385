package op

// rowShare hands the rows of a row-wise operator (one whose rows are
// computed independently, each with the same bits however the rows are
// grouped) out to the session's workers in blocks, through a Split that
// measures whether that pays. It is part of the operator's per-session
// state; run, set once in NewState, computes rows [r0, r1).
type rowShare struct {
	split Split
	blk   int // rows a unit
	rows  int
	run   func(r0, r1 int)
}

func (r *rowShare) RunRange(lo, hi int) { r.run(lo*r.blk, min(hi*r.blk, r.rows)) }

// rowsMinWork is the least work (element operations) a row-wise operator
// hands out on a Parallel that is not Timed (a test's); on a Timed one its
// Split measures.
const rowsMinWork = 1 << 16

// do computes rows [0, rows), each costing about perRow element
// operations: on the caller, or in up to four blocks a worker of whole
// multiples of align rows (kernels that take rows in groups, such as
// LayerNormRows' four, keep their groups).
func (r *rowShare) do(ctx *Ctx, rows, perRow, align int) {
	if rows <= 0 {
		return
	}
	w := 1
	if ctx.Par != nil {
		w = ctx.Par.Workers()
	}
	work := satMul(rows, perRow)
	if w < 2 || work < splitFloor || rows < 2*align {
		r.run(0, rows)
		return
	}
	units := min(4*w, rows/align)
	blk := (rows + units - 1) / units
	blk = (blk + align - 1) / align * align
	r.blk, r.rows = blk, rows
	r.split.Do(ctx, rows, (rows+blk-1)/blk, r, work, rowsMinWork)
}
