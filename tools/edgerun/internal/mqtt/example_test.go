package mqtt_test

import (
	"context"
	"fmt"
	"time"

	"github.com/edgerun/edgerun/tools/edgerun/internal/mqtt"
)

// A pipeline sink publishes each alert and flushes on shutdown. The broker
// may be down: Publish still returns at once and the message waits in the
// outbox.
func Example() {
	p, err := mqtt.New(mqtt.Options{
		Broker:   "tcp://127.0.0.1:1883",
		ClientID: "edgerun-pump-3",
		Outbox:   500,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := p.Publish("factory/pump-3/alert", []byte(`{"label":"bearing_fault","score":0.97}`)); err != nil {
		fmt.Println(err)
	}
	fmt.Printf("%+v\n", p.Stats())

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if unsent, err := p.Close(ctx); err != nil {
		fmt.Println(unsent, "alerts not delivered:", err)
	}
}
