// Command recommend is the built-in recommend plugin (see package
// github.com/edgerun/edgerun/plugins/builtin/recommend). A host starts it;
// run by hand it says so and exits.
package main

import (
	"fmt"
	"os"

	"github.com/edgerun/edgerun/plugins/builtin/recommend"
	"github.com/edgerun/edgerun/sdk"
)

func main() {
	m, err := recommend.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, "recommend:", err)
		os.Exit(1)
	}
	sdk.Serve(m)
}
