// Command lexicon is the SDK's example plugin binary: all a plugin's main
// needs is sdk.Serve. Run it through a host (edgerun plugins infer), not
// directly.
package main

import (
	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/example/lexicon"
)

func main() { sdk.Serve(lexicon.New()) }
