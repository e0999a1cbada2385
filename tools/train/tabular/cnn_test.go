package tabular

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/edgerun/edgerun/format"
	"github.com/edgerun/edgerun/tools/train"
)

const digitsCSV = "../../../data/image/digits_8x8/digits_8x8.csv"

// shapeNames are the classes of shapes28.
var shapeNames = []string{"disk", "ring", "square", "plus", "cross"}

// shapes28 writes a CSV of n seeded 28×28 grayscale images in the
// Fashion-MNIST layout (label, px0 … px783, 0–255), n/5 of each class:
// a disk, a ring, a square outline, a plus or a diagonal cross, of a
// random size (radius 5 to 8 pixels), stroke (1.5 to 2.5), brightness and
// place (centre within 3 pixels of the middle, so it stays in the
// frame), antialiased, with Gaussian noise. Telling them apart takes the shapes' local structure
// wherever they are: what convolutions are for.
func shapes28(t testing.TB, n int, seed uint64) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 28))
	var b strings.Builder
	b.WriteString("label")
	for i := range 28 * 28 {
		fmt.Fprintf(&b, ",px%d", i)
	}
	b.WriteString("\n")
	// bars is the signed distance to the union of a horizontal and a
	// vertical bar of half-length r and half-width w.
	bars := func(dx, dy, r, w float64) float64 {
		return min(max(math.Abs(dx)-w, math.Abs(dy)-r), max(math.Abs(dy)-w, math.Abs(dx)-r))
	}
	for i := range n {
		class := i % len(shapeNames)
		cx, cy := 14+6*(rng.Float64()-0.5), 14+6*(rng.Float64()-0.5)
		r, w := 5+3*rng.Float64(), (1.5+rng.Float64())/2
		amp := 0.6 + 0.4*rng.Float64()
		b.WriteString(shapeNames[class])
		for y := range 28 {
			for x := range 28 {
				dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy
				var d float64 // signed distance to the shape's edge
				switch class {
				case 0:
					d = math.Hypot(dx, dy) - r
				case 1:
					d = math.Abs(math.Hypot(dx, dy)-r) - w
				case 2:
					d = math.Abs(max(math.Abs(dx), math.Abs(dy))-r) - w
				case 3:
					d = bars(dx, dy, r, w)
				case 4:
					d = bars((dx+dy)/math.Sqrt2, (dx-dy)/math.Sqrt2, r, w)
				}
				v := amp*min(max(0.5-d, 0), 1) + 0.1*rng.NormFloat64()
				fmt.Fprintf(&b, ",%d", int(math.Round(255*min(max(v, 0), 1))))
			}
		}
		b.WriteString("\n")
	}
	path := filepath.Join(t.TempDir(), "shapes28.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// ops lists a graph's operators in order.
func ops(fm *format.Model) []string {
	var s []string
	for _, n := range fm.Graph.Nodes {
		s = append(s, n.Op)
	}
	return s
}

// TestFitImageCNN: 28×28 images train the CNN, which the engine runs
// (f32 and int8, its Conv2D weights quantized) to a high accuracy on 500
// images of five shapes (shapes28); the int8 file loses at most a point.
func TestFitImageCNN(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a CNN for about half a minute")
	}
	path := shapes28(t, 500, 1)
	var log []string
	start := time.Now()
	tr, err := FitImage(train.FitOptions{Data: path, Seed: 1, Epochs: 30, Logf: func(f string, a ...any) { log = append(log, fmt.Sprintf(f, a...)) }})
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	var epochs []string
	for _, h := range tr.History {
		epochs = append(epochs, h.String("acc"))
	}
	t.Logf("%s\n%s\n%d epochs in %v", strings.Join(log, "\n"), strings.Join(epochs, "\n"), len(tr.History), elapsed.Round(time.Millisecond))
	want := []string{"Normalize", "Reshape", "Conv2D", "MaxPool2D", "Conv2D", "MaxPool2D", "Flatten", "Dense", "Dense", "Softmax"}
	acc := map[bool]float64{}
	for _, q := range []bool{false, true} {
		fm, err := tr.Export(q, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := ops(fm); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("graph %v, want %v", got, want)
		}
		if s := fm.Graph.Inputs[0].Shape; len(s) != 2 || s[1] != 784 || fm.Metadata.Task != TaskImage {
			t.Errorf("input %v, task %s", s, fm.Metadata.Task)
		}
		met, rep, err := train.EvalEngine(fm, tr.Kind, tr.Test)
		if err != nil {
			t.Fatal(err)
		}
		acc[q] = met["accuracy"]
		t.Logf("labels %v confusion %v", tr.Labels, rep.Confusion)
	}
	t.Logf("test accuracy (%d rows): f32 %.4f, int8 %.4f; quantizable %v", len(tr.Test.Y), acc[false], acc[true], tr.Quantizable)
	if acc[false] < 0.97 || acc[true] < 0.97 || acc[false]-acc[true] > 0.01 {
		t.Errorf("test accuracy f32 %.4f, int8 %.4f: want at least 0.97, int8 within a point", acc[false], acc[true])
	}
	if len(tr.Quantizable) != 4 {
		t.Errorf("quantizable %v, want the two Conv2D and two Dense", tr.Quantizable)
	}
}

// TestFitImageSmallUsesMLP: the 8×8 digits (and any image under 16×16)
// keep the MLP; 16×16 and up take the CNN.
func TestFitImageSmallUsesMLP(t *testing.T) {
	tr, err := FitImage(train.FitOptions{Data: digitsCSV, Seed: 1, Epochs: 1})
	if err != nil {
		t.Fatal(err)
	}
	fm, err := tr.Export(false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ops(fm), " "); got != "Normalize Dense Dense Dense Softmax" {
		t.Errorf("8×8 digits: graph %s, want the MLP", got)
	}
	for _, tc := range []struct{ pixels, side int }{{64, 0}, {225, 0}, {255, 0}, {256, 16}, {784, 28}, {800, 0}, {1024, 32}, {3072, 0}} {
		if got := cnnSide(tc.pixels); got != tc.side {
			t.Errorf("cnnSide(%d) = %d, want %d", tc.pixels, got, tc.side)
		}
	}
	for _, tc := range []struct{ side, blocks int }{{16, 2}, {28, 2}, {32, 2}, {33, 2}, {36, 3}, {64, 3}, {128, 4}} {
		if h := cnnDefaults(tc.side, 60000); len(h.Conv) != tc.blocks {
			t.Errorf("side %d: %d conv blocks %v, want %d", tc.side, len(h.Conv), h.Conv, tc.blocks)
		}
	}
}

// TestFitImageCNNSameBytes: the same data and seed give the same CNN
// file, on one thread or on several.
func TestFitImageCNNSameBytes(t *testing.T) {
	path := shapes28(t, 150, 2)
	var files [][]byte
	for _, procs := range []int{1, max(runtime.GOMAXPROCS(0), 2)} {
		old := runtime.GOMAXPROCS(procs)
		tr, err := FitImage(train.FitOptions{Data: path, Seed: 3, Epochs: 2})
		runtime.GOMAXPROCS(old)
		if err != nil {
			t.Fatal(err)
		}
		fm, err := tr.Export(true, nil)
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "m.erm")
		if err := format.WriteFile(out, fm); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, b)
	}
	if string(files[0]) != string(files[1]) {
		t.Error("same seed, different model bytes on 1 and several threads")
	}
}
