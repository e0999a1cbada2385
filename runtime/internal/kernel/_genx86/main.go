// Command _genx86 writes the amd64 kernels of package kernel with avo
// (github.com/mmcloughlin/avo): one generator per assembly file, chosen
// with -kernel, so every x86 kernel has one source of truth here, as the
// arm64 ones have in ../_gen.
//
//	go run . -kernel NAME -pkg kernel -out ../NAME_amd64.s
//
// `make generate` runs the go:generate directives of this package (each
// generator file carries its own); TestGenerated checks that the committed
// files equal a fresh generation. The Go declarations, with their
// contracts, stay hand-written in the kernel package (go vet's asmdecl
// checks the two agree).
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"

	"github.com/mmcloughlin/avo/build"
)

// generators maps a -kernel name to the function that emits its TEXT
// blocks through avo's global build context. Generator files register
// themselves in init.
var generators = map[string]func(){}

// register adds a generator; a duplicate name is a programming error.
func register(name string, gen func()) {
	if _, dup := generators[name]; dup {
		panic("_genx86: generator " + name + " registered twice")
	}
	generators[name] = gen
}

func main() {
	kernel := flag.String("kernel", "", "which file to generate (see -list)")
	list := flag.Bool("list", false, "list the generators")
	flag.Parse()
	if *list {
		for _, n := range names() {
			fmt.Println(n)
		}
		return
	}
	gen, ok := generators[*kernel]
	if !ok {
		fmt.Fprintf(os.Stderr, "_genx86: no generator %q (have %v)\n", *kernel, names())
		os.Exit(2)
	}
	build.ConstraintExpr("amd64,gc,!noasm,!purego")
	gen()
	build.Generate()
}

func names() []string {
	var l []string
	for n := range generators {
		l = append(l, n)
	}
	sort.Strings(l)
	return l
}
