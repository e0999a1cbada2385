package op

import (
	"fmt"

	"github.com/edgerun/edgerun/runtime/tensor"
)

// IntAttr returns an int attribute or def when absent.
func (n *Node) IntAttr(name string, def int64) (int64, error) {
	a, ok := n.Attrs[name]
	if !ok {
		return def, nil
	}
	if a.Kind != AttrInt {
		return 0, fmt.Errorf("attribute %q must be an int", name)
	}
	return a.Int, nil
}

// FloatAttr returns a float attribute (an int is accepted) or def.
func (n *Node) FloatAttr(name string, def float64) (float64, error) {
	a, ok := n.Attrs[name]
	if !ok {
		return def, nil
	}
	switch a.Kind {
	case AttrFloat:
		return a.Float, nil
	case AttrInt:
		return float64(a.Int), nil
	}
	return 0, fmt.Errorf("attribute %q must be a float", name)
}

// StringAttr returns a string attribute or def.
func (n *Node) StringAttr(name, def string) (string, error) {
	a, ok := n.Attrs[name]
	if !ok {
		return def, nil
	}
	if a.Kind != AttrString {
		return "", fmt.Errorf("attribute %q must be a string", name)
	}
	return a.String, nil
}

// IntsAttr returns an ints attribute or nil.
func (n *Node) IntsAttr(name string) ([]int64, error) {
	a, ok := n.Attrs[name]
	if !ok {
		return nil, nil
	}
	if a.Kind != AttrInts {
		return nil, fmt.Errorf("attribute %q must be a list of ints", name)
	}
	return a.Ints, nil
}

// ConstInput returns input i as a constant of the given rank, or an error.
func (n *Node) ConstInput(i int, what string, rank int) (*Const, error) {
	if i >= len(n.Inputs) || !n.Inputs[i].Present {
		return nil, fmt.Errorf("missing %s (input %d)", what, i)
	}
	c := n.Inputs[i].Const
	if c == nil {
		return nil, fmt.Errorf("%s (input %d, %q) must be a model constant", what, i, n.Inputs[i].Name)
	}
	if rank >= 0 && len(c.T.Shape) != rank {
		return nil, fmt.Errorf("%s %q has shape %v, want rank %d", what, c.Name, c.T.Shape, rank)
	}
	if len(n.took) < len(n.Inputs) {
		n.took = append(n.took, make([]bool, len(n.Inputs)-len(n.took))...)
	}
	n.took[i] = true
	return c, nil
}

// OptConstInput is ConstInput for an optional input: nil when absent.
func (n *Node) OptConstInput(i int, what string, rank int) (*Const, error) {
	if i >= len(n.Inputs) || !n.Inputs[i].Present {
		return nil, nil
	}
	return n.ConstInput(i, what, rank)
}

// F32 returns the constant's values as float32, dequantizing int8.
func (c *Const) F32() ([]float32, error) {
	switch c.T.DType {
	case tensor.F32:
		return c.T.F32, nil
	case tensor.I8:
		out := make([]float32, len(c.T.I8))
		if len(c.Scales) == 0 {
			return nil, fmt.Errorf("int8 tensor %q has no scales", c.Name)
		}
		inner := 1
		chans := 1
		if c.Axis >= 0 {
			chans = c.T.Shape[c.Axis]
			for _, d := range c.T.Shape[c.Axis+1:] {
				inner *= d
			}
		}
		for i, q := range c.T.I8 {
			s := c.Scales[0]
			if c.Axis >= 0 {
				s = c.Scales[(i/inner)%chans]
			}
			out[i] = float32(q) * s
		}
		return out, nil
	}
	return nil, fmt.Errorf("tensor %q is %s, want f32 or i8", c.Name, c.T.DType)
}

// wantInputs checks the number of inputs and that the data input is
// present and dynamic.
func wantInputs(n *Node, min, max int) error {
	if len(n.Inputs) < min || len(n.Inputs) > max {
		if min == max {
			return fmt.Errorf("takes %d inputs, has %d", min, len(n.Inputs))
		}
		return fmt.Errorf("takes %d to %d inputs, has %d", min, max, len(n.Inputs))
	}
	return nil
}
