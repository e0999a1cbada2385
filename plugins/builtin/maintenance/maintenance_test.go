package maintenance_test

import (
	"context"
	"errors"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/edgerun/edgerun/plugins/builtin/internal/plugintest"
	"github.com/edgerun/edgerun/plugins/builtin/maintenance"
	"github.com/edgerun/edgerun/sdk"
	"github.com/edgerun/edgerun/sdk/sdkrt"
	"github.com/edgerun/edgerun/sdk/sdktest"
)

func newModel(t *testing.T) sdk.Model {
	t.Helper()
	m, err := maintenance.New()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// windows reads testdata/windows.csv (rows of `edgetrain datasets sensor
// --seed 1`: columns CHANNEL_tSTEP channel by channel, then label) as one
// request [n, 3, 128] and the labels.
func windows(t *testing.T) (*sdk.InferRequest, []string) {
	t.Helper()
	tab := plugintest.ReadCSV(t, "plugins/builtin/maintenance/testdata/windows.csv")
	if tab.Header[0] != "vib_x_t0" || tab.Header[128] != "vib_y_t0" || tab.Header[256] != "current_t0" {
		t.Fatalf("unexpected header %v ...", tab.Header[:3])
	}
	var data []float32
	var labels []string
	for _, row := range tab.Rows {
		for _, s := range row[:3*128] {
			v, err := strconv.ParseFloat(s, 32)
			if err != nil {
				t.Fatal(err)
			}
			data = append(data, float32(v))
		}
		labels = append(labels, row[3*128])
	}
	return &sdk.InferRequest{Inputs: []sdk.Tensor{plugintest.FP32(maintenance.InWindow, []int64{int64(len(labels)), 3, 128}, data...)}}, labels
}

func TestWindows(t *testing.T) {
	m := newModel(t)
	req, labels := windows(t)
	resp := plugintest.Infer(t, m, req)
	label := plugintest.Strings(t, resp, maintenance.OutLabel)
	cond := plugintest.Strings(t, resp, maintenance.OutCondition)
	score := plugintest.Output(t, resp, maintenance.OutScore).FP32
	right := 0
	for i, want := range labels {
		if cond[i] == want {
			right++
		}
		if (label[i] == "anomaly") != (score[i] >= maintenance.DefaultThreshold) || score[i] < 0 || score[i] > 1 {
			t.Errorf("window %d: label %s, score %v", i, label[i], score[i])
		}
		if want == "healthy" && label[i] != "normal" || want != "healthy" && label[i] != "anomaly" {
			t.Logf("window %d (%s): %s, score %.3f", i, want, label[i], score[i])
		}
	}
	if right < len(labels)-1 {
		t.Errorf("%d of %d windows' conditions right: %v, want %v", right, len(labels), cond, labels)
	}
	d := plugintest.Description(t, m)
	if !strings.Contains(d.Provenance, "SYNTHETIC") || !strings.Contains(d.Summary, "SYNTHETIC") {
		t.Errorf("the description does not say the training data is synthetic: %q / %q", d.Summary, d.Provenance)
	}
}

func TestBadInput(t *testing.T) {
	m := newModel(t)
	nan, _ := windows(t)
	nan.Inputs[0].FP32[5] = float32(math.NaN())
	steps, _ := windows(t)
	steps.Inputs[0] = plugintest.FP32(maintenance.InWindow, []int64{1, 3, 64}, make([]float32, 3*64)...)
	th, _ := windows(t)
	th.Parameters = map[string]string{"threshold": "-1"}
	for name, req := range map[string]*sdk.InferRequest{"NaN": nan, "short window": steps, "threshold": th} {
		_, err := m.Infer(context.Background(), req)
		if !errors.Is(err, sdk.ErrInvalidInput) {
			t.Errorf("%s: %v, want invalid input", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
}

func TestConformance(t *testing.T) {
	m := newModel(t)
	sdktest.Run(t, m)
	t.Run("wire", func(t *testing.T) { sdktest.Run(t, sdktest.Serve(t, m)) })
}

// TestChannelOrder: the plugin takes a window's channels in the order of
// its model's metadata (features, one per channel), which is the order
// of the "channels" the trainer recorded and of the CSV it trained on
// (`edgetrain datasets sensor`: vib_x, vib_y, current), and its summary
// says so. `edgerun run --csv` reads the same metadata
// (tools/edgerun TestRunSensorMatchesPlugin checks that both give the
// same probabilities).
func TestChannelOrder(t *testing.T) {
	em, err := sdkrt.Load(readModel(t))
	if err != nil {
		t.Fatal(err)
	}
	var feats []string
	for _, f := range em.Meta.Features {
		feats = append(feats, f.Name)
	}
	recorded, _ := sdkrt.Extra(em, "channels")
	tab := plugintest.ReadCSV(t, "plugins/builtin/maintenance/testdata/windows.csv")
	var csvOrder []string
	for _, h := range tab.Header {
		if ch, ok := strings.CutSuffix(h, "_t0"); ok {
			csvOrder = append(csvOrder, ch)
		}
	}
	want := []string{"vib_x", "vib_y", "current"}
	if !slices.Equal(feats, want) || recorded != strings.Join(want, ",") || !slices.Equal(csvOrder, want) {
		t.Fatalf("channel order: metadata features %v, recorded channels %q, CSV %v; want %v", feats, recorded, csvOrder, want)
	}
	if d := plugintest.Description(t, newModel(t)); !strings.Contains(d.Summary, "3 channels [vib_x vib_y current] × 128 steps, channels first") {
		t.Errorf("the summary does not give the channel order: %q", d.Summary)
	}
}

func readModel(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("model.erm")
	if err != nil {
		t.Fatal(err)
	}
	return b
}
