// Command risk is the built-in risk plugin (see package
// github.com/edgerun/edgerun/plugins/builtin/risk). A host starts it;
// run by hand it says so and exits.
package main

import (
	"fmt"
	"os"

	"github.com/edgerun/edgerun/plugins/builtin/risk"
	"github.com/edgerun/edgerun/sdk"
)

func main() {
	m, err := risk.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, "risk:", err)
		os.Exit(1)
	}
	sdk.Serve(m)
}
