package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/format/formattest"
	tokenize "github.com/edgerun/edgerun/runtime/text"
)

// TestHostileModelsEveryCommand: every command that reads a model
// (inspect, verify, run, run --text, bench, sign) refuses each hostile
// file of formattest.Hostile with one line naming the format error, and
// allocates at most 16 MiB doing so (plus MaxHeaderBytes for a file
// refused for what its header needs). The 65,536 × 1,024 attribute-map
// file (20 KB) took these commands to 8.4 GB of RSS, also with a wrong
// checksum; the tokenizer with max_len 2^31-1 took run --text to 13 GB.
func TestHostileModelsEveryCommand(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "k")
	runArgs("keygen", key).wantOK(t)
	req := writeFile(t, "req.json", `{"inputs":[{"name":"x","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}`)
	for i, c := range formattest.Hostile() {
		if c.Want == nil {
			continue
		}
		path := filepath.Join(dir, fmt.Sprintf("hostile%d.erm", i))
		if err := os.WriteFile(path, c.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{
			{"inspect", path},
			{"verify", path, "--trusted-key", key + ".pub"},
			{"run", path, "--input", req},
			{"run", path, "--text", "good phone"},
			{"bench", path, "--iters", "1", "--warmup", "0"},
			{"sign", path, "--key", key + ".key"},
		} {
			t.Run(c.Name+"/"+args[0], func(t *testing.T) {
				var r result
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				r = runArgs(args...)
				runtime.ReadMemStats(&after)
				r.wantFail(t, 1, "edgerun: "+args[0]+" "+path+": format: ")
				bound := uint64(16 << 20)
				if strings.Contains(r.stderr, "bytes of memory") {
					bound += format.DefaultMaxHeaderBytes // refused for what its header needs
				}
				if alloc := after.TotalAlloc - before.TotalAlloc; alloc > bound {
					t.Errorf("allocated %.1f MiB refusing a %d-byte file", float64(alloc)/(1<<20), len(c.Data))
				}
			})
		}
	}
}

// TestSeqLenLimitsAgree: runtime/text cannot import format, so it
// mirrors format's default sequence-length limit; the two must agree.
func TestSeqLenLimitsAgree(t *testing.T) {
	if tokenize.DefaultMaxSeqLen != format.DefaultMaxSeqLen {
		t.Errorf("text.DefaultMaxSeqLen %d, format.DefaultMaxSeqLen %d", tokenize.DefaultMaxSeqLen, format.DefaultMaxSeqLen)
	}
}
