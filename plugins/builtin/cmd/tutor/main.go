// Command tutor is the built-in tutor plugin (see package
// github.com/edgerun/edgerun/plugins/builtin/tutor). A host starts it;
// run by hand it says so and exits. $EDGERUN_TUTOR_STORE names a
// directory that keeps the learners' states across restarts.
package main

import (
	"fmt"
	"os"

	"github.com/edgerun/edgerun/plugins/builtin/tutor"
	"github.com/edgerun/edgerun/sdk"
)

func main() {
	m, err := tutor.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, "tutor:", err)
		os.Exit(1)
	}
	sdk.Serve(m)
}
