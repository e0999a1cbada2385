// Package op is the runtime's operator table and the operators: each one
// is built once per model from a graph node (packing its weights), then
// run by every session of that model with the session's own buffers.
//
// An operator never allocates in Run: its outputs and its scratch space
// are planned by the engine from the shapes Plan reports, and per-session
// state (for parallel work) comes from NewState. Bad input at run time
// (an out-of-range token id, a shape that does not fit) is an error,
// never a panic.
//
// It imports tensor and the kernel package, nothing else of edgerun (its
// tests use quant to make int8 weights): the engine translates the file
// format into Node values.
package op

import (
	"fmt"
	"sort"
	"time"

	"github.com/edgerun/edgerun/runtime/tensor"
)

// AttrKind says which field of an Attr is set (same numbers as the file
// format's).
type AttrKind uint8

// Attribute kinds.
const (
	AttrInt AttrKind = iota + 1
	AttrFloat
	AttrString
	AttrInts
	AttrFloats
	AttrStrings
)

// Attr is one attribute value.
type Attr struct {
	Kind    AttrKind
	Int     int64
	Float   float64
	String  string
	Ints    []int64
	Floats  []float64
	Strings []string
}

// Const is a constant input: a tensor from the model file, with its
// quantization when it is an int8 tensor (per-channel scales along Axis,
// -1 for one scale).
type Const struct {
	Name   string
	T      *tensor.Tensor
	Scales []float32
	Axis   int
	// Own is set by the loader when this node is the constant's only
	// user and nothing else keeps T's data: the operator may then keep
	// that data as its packed form, rearranging it in place, instead of
	// copying it.
	Own bool
	// Dequant asks operators that run int8 weights to also keep them
	// dequantized to f32, for runs with Ctx.Int8Off (the engine's
	// WithF32Weights). Without it an int8 operator holds only int8.
	Dequant bool
}

// Input is one input slot of a node.
type Input struct {
	Name    string
	Present bool   // false for an absent optional input ("" in the file)
	Const   *Const // non-nil when the input is a model constant
}

// Node is what a Builder gets: the node's name, op, attributes and inputs.
type Node struct {
	Name    string
	Op      string
	Attrs   map[string]Attr
	Inputs  []Input
	Outputs int
	// MaxSeqLen bounds the sequence length of operators whose cost grows
	// faster than linearly with it (attention: T² per head), so that a
	// request's length cannot make one Run take hours. 0: no bound.
	MaxSeqLen int

	took []bool // inputs the builder took with ConstInput
}

// Took reports whether the builder took input i as a constant
// (ConstInput): the operator keeps what it needs of it and does not read
// that input at Run, so the loader need not keep the constant for Run.
func (n *Node) Took(i int) bool { return i < len(n.took) && n.took[i] }

// Desc is the dtype and shape of a value.
type Desc struct {
	DType tensor.DType
	Shape tensor.Shape
}

// Scratch is the working memory an operator needs for one run, in
// elements of each type.
type Scratch struct {
	F32 int
	U8  int
	I32 int
}

// Parallel splits work among the session's workers.
type Parallel interface {
	// Workers is the number of goroutines Do may use.
	Workers() int
	// Do calls t.RunRange on disjoint ranges covering [0, n), on up to
	// Workers goroutines, and returns when all are done.
	Do(n int, t Task)
}

// Timed is a Parallel that knows what handing work to its workers costs.
// Split measures whether a piece of work is worth handing out only on a
// Timed Parallel; on others it splits by static work thresholds.
type Timed interface {
	Parallel
	// HandOff is the least time from posting work to a waiting worker
	// until the caller sees it finished, with no work in it.
	HandOff() time.Duration
}

// Task is a unit of parallel work; per-session Task values come from a
// Kernel's NewState, so Do allocates nothing.
type Task interface {
	RunRange(lo, hi int)
}

// Ctx is what a Kernel's Run gets besides its inputs and outputs.
type Ctx struct {
	Par     Parallel
	F32     []float32 // scratch, at least Scratch.F32 elements
	U8      []uint8
	I32     []int32
	State   any  // from Kernel.NewState, once per session
	Int8Off bool // run quantized layers in f32 (their weights built with Const.Dequant)
}

// Kernel is a built operator.
type Kernel interface {
	// Plan returns the outputs' dtypes and shapes and the scratch space
	// for inputs of the given dtypes and shapes, or an error naming the
	// mismatch. Absent optional inputs have a zero Desc. A kernel is
	// shared by every session of a model: Plan and Run must not modify it.
	Plan(in []Desc) (out []Desc, scratch Scratch, err error)
	// Run computes the outputs, which the engine has sized as Plan said.
	Run(ctx *Ctx, in, out []*tensor.Tensor) error
}

// Stateful kernels get per-session state (for example the Task values
// they hand to Parallel.Do).
type Stateful interface {
	NewState() any
}

// Builder builds a kernel from a node; it packs the node's weights.
type Builder func(n *Node) (Kernel, error)

// Def registers an operator: its name, the attributes it understands, and
// its builder.
type Def struct {
	Name  string
	Attrs []string
	Build Builder
	Doc   string
}

var registry = map[string]*Def{}

// Register adds an operator to the table; it panics on a duplicate name
// (a programming error, at init time).
func Register(d Def) {
	if _, dup := registry[d.Name]; dup {
		panic("op: duplicate operator " + d.Name)
	}
	registry[d.Name] = &d
}

// Names lists the registered operators, sorted.
func Names() []string {
	var s []string
	for n := range registry {
		s = append(s, n)
	}
	sort.Strings(s)
	return s
}

// Lookup returns the definition of an operator, or nil.
func Lookup(name string) *Def { return registry[name] }

// Build checks the node's op and attributes against the table and builds
// its kernel. Unknown ops and unknown attributes are refused by name.
func Build(n *Node) (Kernel, error) {
	d := registry[n.Op]
	if d == nil {
		return nil, fmt.Errorf("op: node %q: unknown operator %q", n.Name, n.Op)
	}
	for name := range n.Attrs {
		known := false
		for _, a := range d.Attrs {
			if a == name {
				known = true
				break
			}
		}
		if !known {
			return nil, fmt.Errorf("op: node %q: operator %s has no attribute %q (it knows %v)", n.Name, n.Op, name, d.Attrs)
		}
	}
	k, err := d.Build(n)
	if err != nil {
		return nil, fmt.Errorf("op: node %q (%s): %w", n.Name, n.Op, err)
	}
	return k, nil
}
