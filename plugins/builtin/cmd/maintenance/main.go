// Command maintenance is the built-in maintenance plugin (see package
// github.com/edgerun/edgerun/plugins/builtin/maintenance). A host starts it;
// run by hand it says so and exits.
package main

import (
	"fmt"
	"os"

	"github.com/edgerun/edgerun/plugins/builtin/maintenance"
	"github.com/edgerun/edgerun/sdk"
)

func main() {
	m, err := maintenance.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, "maintenance:", err)
		os.Exit(1)
	}
	sdk.Serve(m)
}
