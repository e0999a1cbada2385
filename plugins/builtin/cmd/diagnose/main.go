// Command diagnose is the built-in diagnose plugin (see package
// github.com/edgerun/edgerun/plugins/builtin/diagnose). A host starts it;
// run by hand it says so and exits.
package main

import (
	"fmt"
	"os"

	"github.com/edgerun/edgerun/plugins/builtin/diagnose"
	"github.com/edgerun/edgerun/sdk"
)

func main() {
	m, err := diagnose.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, "diagnose:", err)
		os.Exit(1)
	}
	sdk.Serve(m)
}
