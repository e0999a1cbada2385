package engine_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/runtime/engine"
	"github.com/edgerun/edgerun/runtime/engine/enginetest"
	"github.com/edgerun/edgerun/runtime/internal/kernel"
	"github.com/edgerun/edgerun/runtime/tensor"
)

// The memory goals: a loaded model's live heap is at most heapRatio ×
// its tensor bytes (int8 weights + f32 scales and biases), and the peak
// RSS of loading and running it, minus that of a tiny model, at most
// rssRatio × — on every kernel implementation.
const (
	heapRatio = 1.15
	rssRatio  = 1.5
	memChild  = "EDGERUN_MEMTEST_CHILD" // KERNEL:MODEL_PATH in the child
)

func writeModel(t *testing.T, spec, path string) int64 {
	t.Helper()
	fm, err := enginetest.Build(spec, enginetest.Options{Int8: true, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := format.WriteFile(path, fm); err != nil {
		t.Fatal(err)
	}
	rd, err := format.ReadFile(path, format.WithoutTensorData())
	if err != nil {
		t.Fatal(err)
	}
	return rd.Container.TensorBytes
}

// TestWeightsHeldOnce checks the live heap a loaded int8 model adds, per
// kernel implementation (each packs its own layout).
func TestWeightsHeldOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.erm")
	want := writeModel(t, "mlp:512-1024-512-10", path)
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, im := range kernel.Impls() {
		t.Run(im.Name, func(t *testing.T) {
			restore, err := kernel.Use(im.Name)
			if err != nil {
				t.Fatal(err)
			}
			defer restore()
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			m, err := engine.Read(bytes.NewReader(file))
			if err != nil {
				t.Fatal(err)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			live := int64(after.HeapAlloc) - int64(before.HeapAlloc)
			runtime.KeepAlive(m)
			r := float64(live) / float64(want)
			t.Logf("%s: live heap after load %d B = %.3f× the %d tensor bytes", im.Name, live, r, want)
			if r > heapRatio {
				t.Errorf("%s: a loaded model holds %.2f× its tensor bytes, want ≤ %.2f×", im.Name, r, heapRatio)
			}
		})
	}
}

// TestWeightsPeakRSS runs `load + one inference` (what edgerun bench
// does) in a child process per kernel, on an 8 MB int8 MLP and a tiny
// one, and compares their peak RSS (VmHWM). Under qemu-user (scripts/
// qemu-exec) the child measures a second load + run; see
// TestWeightsMemChild.
func TestWeightsPeakRSS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	if raceEnabled {
		t.Skip("the race detector's shadow memory is part of RSS (3.8× here)")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc/self/status")
	}
	dir := t.TempDir()
	big, tiny := filepath.Join(dir, "big.erm"), filepath.Join(dir, "tiny.erm")
	want := writeModel(t, "mlp:2048-2048-2048-10", big)
	// The tiny model runs the same kernels as the big one (k ≥ 32, n ≥ 8),
	// so the difference is the weights, not code: under qemu-user the
	// translated code of a kernel the tiny model never ran would count.
	writeModel(t, "mlp:64-64-8", tiny)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, im := range kernel.Impls() {
		t.Run(im.Name, func(t *testing.T) {
			hwm := func(model string) int64 {
				args := []string{exe, "-test.run=^TestWeightsMemChild$"}
				if q := os.Getenv("QEMU_USER"); q != "" { // under scripts/qemu-exec
					args = append([]string{q}, args...)
				}
				cmd := exec.Command(args[0], args[1:]...)
				cmd.Env = append(os.Environ(), memChild+"="+im.Name+":"+model)
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("child: %v\n%s", err, out)
				}
				for _, line := range strings.Split(string(out), "\n") {
					if v, ok := strings.CutPrefix(line, "VmHWM-bytes "); ok {
						n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
						if err != nil {
							t.Fatal(err)
						}
						return n
					}
				}
				t.Fatalf("child printed no VmHWM:\n%s", out)
				return 0
			}
			d := hwm(big) - hwm(tiny)
			r := float64(d) / float64(want)
			t.Logf("%s: peak RSS − tiny model's = %d B = %.3f× the %d tensor bytes", im.Name, d, r, want)
			// Under qemu-user (scripts/qemu-exec) the emulator's own heap
			// and translation cache are part of the child's RSS and vary
			// from run to run by megabytes (1.22–1.57× on armv7 for the
			// same build): there the ratio is reported, and the bound is
			// held natively, on every implementation this CPU has.
			if r > rssRatio && os.Getenv("QEMU_USER") == "" {
				t.Errorf("%s: loading and running costs %.2f× the model's bytes in peak RSS, want ≤ %.2f×", im.Name, r, rssRatio)
			}
			if r < 0.9 { // the packed weights alone are ~1×
				t.Errorf("%s: peak RSS difference %.2f× is below the model's own bytes: the measurement is broken", im.Name, r)
			}
		})
	}
}

// TestWeightsMemChild is the child of TestWeightsPeakRSS: it loads and
// runs the model once with the named kernel and prints its VmHWM.
//
// Under qemu-user, /proc/self/status is the emulator's own, and its
// VmHWM also counts qemu's translation cache (an anonymous rwx mapping
// backed by 2 MiB transparent huge pages), which grows as guest code
// runs for the first time. The big model's load + run reaches code the
// tiny one's does not (a GC cycle, the kernels' wide loops), so cold
// runs differ by one more huge page of translated code: +2 MiB, 0.25×
// the model's bytes (1.57× in all instead of 1.31×), while the guest's
// heap (MemStats HeapSys − HeapReleased) is the same as natively. So
// under qemu the child does the work once first, returns the heap to
// the OS, resets the peak (clear_refs 5) and prints how far a second
// load + run, whose code is already translated, raises it: the guest's
// memory (less any growth of the translation cache it still causes).
func TestWeightsMemChild(t *testing.T) {
	spec := os.Getenv(memChild)
	if spec == "" {
		t.Skip("the child of TestWeightsPeakRSS")
	}
	name, path, _ := strings.Cut(spec, ":")
	if _, err := kernel.Use(name); err != nil {
		t.Fatal(err)
	}
	qemu := os.Getenv("QEMU_USER") != ""
	var base, code int64
	if qemu {
		loadAndRun(t, path)
		statusBytes(t, "VmHWM") // translate what the measurement runs, too
		codeBytes(t)
		runtime.GC()
		debug.FreeOSMemory()
		if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
			t.Fatalf("resetting the peak RSS: %v", err)
		}
		base, code = statusBytes(t, "VmHWM"), codeBytes(t)
	}
	loadAndRun(t, path)
	peak := statusBytes(t, "VmHWM") - base
	if qemu {
		// Code still translated for the first time (a huge page of
		// the cache) is the emulator's too.
		peak -= codeBytes(t) - code
	}
	os.Stdout.WriteString("VmHWM-bytes " + strconv.FormatInt(peak, 10) + "\n")
}

// codeBytes is the resident size of the anonymous rwx mappings: under
// qemu-user, whose /proc/self/smaps is the host's, its translation
// cache (Go maps no memory executable and writable).
func codeBytes(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	rwx := false
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 5 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":"):
			rwx = f[1] == "rwxp" && len(f) == 5 // no path: anonymous
		case rwx && len(f) == 3 && f[0] == "Rss:" && f[2] == "kB":
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			n += kb * 1024
		}
	}
	return n
}

// statusBytes reads a "kB" field of /proc/self/status.
func statusBytes(t *testing.T, field string) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb * 1024
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// loadAndRun loads the model at path and runs it once.
func loadAndRun(t *testing.T, path string) {
	t.Helper()
	m, err := engine.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := m.NewSession()
	defer s.Close()
	in := m.Inputs[0]
	x := tensor.NewF32(tensor.Shape{1, in.Shape[1]}, nil)
	for i := range x.F32 {
		x.F32[i] = float32(i%7) - 3
	}
	if _, err := s.Run([]*tensor.Tensor{x}); err != nil {
		t.Fatal(err)
	}
}
