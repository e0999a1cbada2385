package lexicon_test

import (
	"testing"

	"github.com/edgerun/edgerun/sdk/example/lexicon"
	"github.com/edgerun/edgerun/sdk/sdktest"
)

func TestConformance(t *testing.T) {
	sdktest.Run(t, lexicon.New())                   // in process
	sdktest.Run(t, sdktest.Serve(t, lexicon.New())) // through the wire (gRPC and the channel), in one process
}
