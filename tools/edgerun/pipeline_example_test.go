package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/edgerun/edgerun/tools/edgerun/internal/mqtt/mqtttest"
)

// TestMaintenanceExample runs boards/examples/maintenance/recorded.yaml as
// the README does: the recorded machine (a bearing fault from 5.000 s) →
// the maintenance model → the simulated alarm pin and an MQTT alert to a
// real Mosquitto. The alarm rises once, at the second window holding the
// fault (debounce 2: the window ending 5.183 s), never before; the pin
// goes high then, and the alert reaches a subscriber.
func TestMaintenanceExample(t *testing.T) {
	b := mqtttest.NewBroker(t)
	b.Start()
	const topic = "edgerun/maintenance/alarm"
	var mu sync.Mutex
	var alerts []string
	subscribed := make(chan struct{})
	c := paho.NewClient(paho.NewClientOptions().AddBroker(b.URL()).SetClientID("example-sub").
		SetOnConnectHandler(func(c paho.Client) {
			if tok := c.Subscribe(topic, 1, func(_ paho.Client, m paho.Message) {
				mu.Lock()
				alerts = append(alerts, string(m.Payload()))
				mu.Unlock()
			}); tok.Wait() && tok.Error() == nil {
				close(subscribed)
			}
		}))
	if tok := c.Connect(); tok.Wait() && tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer c.Disconnect(0)
	<-subscribed

	// The example as committed, with the test broker's address and the
	// paths made absolute (the copy lives in a temporary folder).
	src, err := os.ReadFile(filepath.Join("..", "..", "boards", "examples", "maintenance", "recorded.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(src), "../../../", root+"/")
	text = strings.ReplaceAll(text, "tcp://127.0.0.1:1883", b.URL())
	if strings.Count(text, b.URL()) != 1 || !strings.Contains(text, root+"/data/maintenance/recording.csv") {
		t.Fatalf("the example no longer has the broker and paths this test replaces:\n%s", text)
	}
	cfg := filepath.Join(t.TempDir(), "recorded.yaml")
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}

	r := runArgs("pipeline", "--once", "--config", cfg)
	if r.code != 0 {
		t.Fatal(r)
	}
	var out onceOutput
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	st := out.Stats
	if st.Samples != 8000 || st.Windows != 124 || st.Inferences != 124 || st.SensorErrors != 0 || st.ModelErrors != 0 || st.SinkErrors != 0 || st.Alarms != 1 {
		t.Fatalf("stats %+v", st)
	}
	fault := time.Unix(5, 0)
	var raised *time.Time
	for _, d := range out.Decisions {
		if d.Changed {
			if raised != nil || !d.Alarm {
				t.Fatalf("a second change, or a clear: %+v", d)
			}
			at := d.Time
			raised = &at
		}
		if d.Alarm && d.Time.Before(fault) {
			t.Fatalf("alarm before the fault: %+v", d)
		}
	}
	if raised == nil || !raised.Equal(time.Unix(5, 183e6)) {
		t.Fatalf("alarm raised at %v, want at the window ending 5.183 s", raised)
	}
	t.Logf("alarm raised by the window ending %.3f s: %v of signal after the fault's first sample", float64(raised.UnixNano())/1e9, raised.Sub(fault))
	if !strings.Contains(r.stderr, `msg="pipeline: simulated pin" pin=sim:GPIO27 level=High`) {
		t.Errorf("the simulated pin never went high:\n%s", r.stderr)
	}
	mqtttest.WaitFor(t, "the MQTT alert", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(alerts) > 0
	})
	mu.Lock()
	defer mu.Unlock()
	if len(alerts) != 1 || !strings.Contains(alerts[0], `"alarm":true`) || !strings.Contains(alerts[0], `"window":79`) {
		t.Fatalf("alerts %q, want one, of window 79", alerts)
	}
}
