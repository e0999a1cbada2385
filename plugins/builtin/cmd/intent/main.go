// Command intent is the built-in intent plugin (see package
// github.com/edgerun/edgerun/plugins/builtin/intent). A host starts it;
// run by hand it says so and exits.
package main

import (
	"fmt"
	"os"

	"github.com/edgerun/edgerun/plugins/builtin/intent"
	"github.com/edgerun/edgerun/sdk"
)

func main() {
	m, err := intent.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, "intent:", err)
		os.Exit(1)
	}
	sdk.Serve(m)
}
