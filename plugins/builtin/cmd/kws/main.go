// Command kws is the built-in kws plugin (see package
// github.com/edgerun/edgerun/plugins/builtin/kws). A host starts it;
// run by hand it says so and exits.
package main

import (
	"fmt"
	"os"

	"github.com/edgerun/edgerun/plugins/builtin/kws"
	"github.com/edgerun/edgerun/sdk"
)

func main() {
	m, err := kws.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kws:", err)
		os.Exit(1)
	}
	sdk.Serve(m)
}
