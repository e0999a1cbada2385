package main

import (
	"log"

	"github.com/mmcloughlin/avo/gotypes"
	"github.com/mmcloughlin/avo/operand"
)

// arg is the frame address of an argument or result component of the
// current TEXT's signature (Param("x").Base(), Return("lo"), ...), printed
// as x_base+0(FP) and so on: the hand-tuned kernels address their
// arguments directly, with physical registers, instead of through Load.
// A name the signature lacks stops the generator.
func arg(c gotypes.Component) operand.Mem {
	b, err := c.Resolve()
	if err != nil {
		log.Fatalf("_genx86: %v", err)
	}
	return b.Addr
}
