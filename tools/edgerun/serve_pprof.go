//go:build edgerun_pprof

package main

import (
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof" // its handlers on http.DefaultServeMux, served below only
	"os"
)

// Built only with -tags edgerun_pprof (TestServeBench's
// EDGERUN_SERVE_PROFILE builds the daemon so): with EDGERUN_PPROF_ADDR set,
// net/http/pprof is served there, apart from the daemon's own listeners
// (which never use http.DefaultServeMux), and its address goes to
// standard error. Release builds have neither the tag nor the handlers.
func init() {
	addr := os.Getenv("EDGERUN_PPROF_ADDR")
	if addr == "" {
		return
	}
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "edgerun pprof:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "edgerun pprof on http://%s\n", lis.Addr())
	go func() { _ = http.Serve(lis, nil) }()
}
