// Command sentiment is the built-in sentiment plugin (see package
// github.com/edgerun/edgerun/plugins/builtin/sentiment). A host starts it;
// run by hand it says so and exits.
package main

import (
	"fmt"
	"os"

	"github.com/edgerun/edgerun/plugins/builtin/sentiment"
	"github.com/edgerun/edgerun/sdk"
)

func main() {
	m, err := sentiment.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sentiment:", err)
		os.Exit(1)
	}
	sdk.Serve(m)
}
