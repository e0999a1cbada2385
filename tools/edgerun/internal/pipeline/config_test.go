package pipeline

import (
	"errors"
	"strings"
	"testing"
)

const goodYAML = `sample_rate: 100
source:
  kind: csv
  path: v.csv
window:
  size: 128
  hop: 64
  channels: [vib_x, vib_y, current]
model:
  erm: model.erm
rule:
  output: anomaly_score
  threshold: {above: 0.6, clear_below: 0.4}
sinks:
  - kind: stdout
`

func parse(t *testing.T, y string) (*Config, error) {
	t.Helper()
	return Parse("pipeline.yaml", "/cfg", []byte(y), NewKinds(Deps{}))
}

func TestConfigGood(t *testing.T) {
	c, err := parse(t, goodYAML+`  - {kind: gpio, pin: GPIO17, active_low: true, on: change}
  - {kind: mqtt, broker: "tcp://127.0.0.1:1883", topic: plant/alarm, qos: 1, queue: 8}
  - {kind: stdout}
normalise: {mode: minmax, min: [0, 0, 0], max: [1, 2, 3]}
retry: {initial_seconds: 0.5, max_seconds: 30}
name: line3
`)
	if err != nil {
		t.Fatal(err)
	}
	if c.SampleRate != 100 || c.Window.Size != 128 || c.Window.Hop != 64 || c.Queue != DefaultQueue || c.Model.ERM != "/cfg/model.erm" ||
		!c.Rule.Threshold || c.Rule.Above != 0.6 || c.Rule.ClearBelow != 0.4 || c.Rule.Raise != 1 || c.Rule.Clear != 1 ||
		len(c.Sinks) != 4 || c.Sinks[1].On != OnChange || c.Sinks[2].Queue != 8 || c.Sinks[3].Name != "stdout#1" ||
		c.Normalise.Mode != NormMinMax || c.Retry.Max.Seconds() != 30 || c.Name != "line3" {
		t.Errorf("parsed %+v", c)
	}
	// Without their drivers, gpio and mqtt sinks check but do not open.
	if _, err := c.Sinks[1].Open(); err == nil || !strings.Contains(err.Error(), "no GPIO driver") {
		t.Errorf("gpio without a driver: %v", err)
	}
}

// TestConfigErrors: every mistake names the file, the line and the field.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name, edit, want string
	}{
		{"hop zero", "hop: 64|hop: 0", "pipeline.yaml:7: window.hop: 0 is not a positive number"},
		{"hop text", "hop: 64|hop: often", `pipeline.yaml:7: window.hop: "often" is not a whole number`},
		{"no sample rate", "sample_rate: 100|", "pipeline.yaml:2: sample_rate: is required (samples per second)"},
		{"negative rate", "sample_rate: 100|sample_rate: -5", "pipeline.yaml:1: sample_rate: -5 is not a positive number"},
		{"unknown field", "  hop: 64|  hop: 64\n  hopp: 3", "pipeline.yaml:8: window.hopp: unknown field"},
		{"unknown top field", "sinks:|sink: 1\nsinks:", "pipeline.yaml:14: sink: unknown field"},
		{"unknown source kind", "kind: csv|kind: adxl", `pipeline.yaml:3: source.kind: unknown source kind "adxl" (known: csv, jsonl, merge, pcm, wav)`},
		{"no path", "  path: v.csv|", "pipeline.yaml:3: source.path: is required"},
		{"realtime", "path: v.csv|path: v.csv\n  realtime: maybe", `pipeline.yaml:5: source.realtime: "maybe" is not true or false`},
		{"two models", "erm: model.erm|erm: model.erm\n  plugin: p", "pipeline.yaml:10: model: give exactly one of erm"},
		{"bad layout", "erm: model.erm|erm: model.erm\n  layout: rows", `pipeline.yaml:11: model.layout: "rows" is not one of steps_channels, channels_steps`},
		{"hysteresis backwards", "clear_below: 0.4|clear_below: 0.9", "pipeline.yaml:13: rule.threshold.clear_below: 0.9 is above 0.6 (above): the alarm would never hold"},
		{"labels and threshold", "output: anomaly_score|output: label\n  labels: [fault]", "pipeline.yaml:12: rule: give exactly one of labels"},
		{"debounce", "output: anomaly_score|output: anomaly_score\n  debounce: 0", "pipeline.yaml:13: rule.debounce: 0 is not a positive number"},
		{"sink kind", "kind: stdout|kind: speaker", `pipeline.yaml:15: sinks[0].kind: unknown sink kind "speaker" (known: gpio, mqtt, stdout)`},
		{"sink on", "kind: stdout|kind: stdout\n    on: sometimes", `pipeline.yaml:16: sinks[0].on: "sometimes" is not one of every, change`},
		{"gpio pin", "kind: stdout|kind: gpio", "pipeline.yaml:15: sinks[0].pin: is required"},
		{"mqtt wildcard", "kind: stdout|{kind: mqtt, broker: 'tcp://h:1883', topic: a/#}", `pipeline.yaml:15: sinks[0].topic: "a/#" has a wildcard`},
		{"mqtt password", "kind: stdout|{kind: mqtt, broker: 'tcp://h:1883', topic: a, password: x}", "pipeline.yaml:15: sinks[0].password: is not read from the file"},
		{"mqtt qos", "kind: stdout|{kind: mqtt, broker: 'tcp://h:1883', topic: a, qos: 3}", "pipeline.yaml:15: sinks[0].qos: 3 is out of range 0 to 2"},
		{"no sinks", "sinks:\n  - kind: stdout\n|", "pipeline.yaml:1: sinks: is required"},
		{"channels twice", "current]|vib_x]", `pipeline.yaml:8: window.channels: channel "vib_x" is listed twice`},
		{"window a list", "window:|window: [1]\nxwindow:", "pipeline.yaml:5: window: is a list, want a mapping of fields"},
		{"normalise count", "sinks:|normalise: {mean: [0], std: [1]}\nsinks:", "pipeline.yaml:14: normalise.mean: has 1 numbers for 3 window channels"},
		{"normalise std", "sinks:|normalise: {mean: [0, 0, 0], std: [1, 0, 1]}\nsinks:", "pipeline.yaml:14: normalise.std: std[1] is 0, not a positive number"},
		{"duplicate key", "  hop: 64|  hop: 64\n  hop: 32", "pipeline.yaml:8: window.hop: is given twice (first on line 7)"},
		{"yaml syntax", "  hop: 64|  hop: [64", "pipeline.yaml:"},
		{"size huge", "size: 128|size: 100000000", "pipeline.yaml:6: window.size: 100000000 is out of range 1 to 65536"},
		{"queue", "sinks:|queue: 0\nsinks:", "pipeline.yaml:14: queue: 0 is not a positive number"},
		{"name quote", "sinks:|name: 'a\"b'\nsinks:", "pipeline.yaml:14: name: want at most 64 bytes"},
		{"name list", "sinks:|name: [a]\nsinks:", "pipeline.yaml:14: name:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			from, to, _ := strings.Cut(tc.edit, "|")
			if !strings.Contains(goodYAML, from) {
				t.Fatalf("edit %q does not apply", from)
			}
			_, err := parse(t, strings.Replace(goodYAML, from, to, 1))
			var ce *ConfigError
			if !errors.As(err, &ce) || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("got %v\nwant %s…", err, tc.want)
			}
		})
	}
	if _, err := parse(t, ""); err == nil || err.Error() != "pipeline.yaml: empty file" {
		t.Errorf("empty file: %v", err)
	}
}
