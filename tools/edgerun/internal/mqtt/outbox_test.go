package mqtt

import (
	"fmt"
	"strings"
	"testing"
)

func msg(i int) message { return message{topic: "t", payload: []byte(fmt.Sprintf("%03d", i))} }

func drain(o *outbox) []string {
	var got []string
	for {
		m, ok := o.pop()
		if !ok {
			return got
		}
		got = append(got, string(m.payload))
	}
}

func TestOutboxDropsOldestByCount(t *testing.T) {
	o := newOutbox(3, 1<<20)
	dropped := 0
	for i := range 8 {
		dropped += o.push(msg(i))
	}
	if dropped != 5 || o.len() != 3 {
		t.Fatalf("dropped %d, len %d; want 5, 3", dropped, o.len())
	}
	if got, want := strings.Join(drain(&o), ","), "005,006,007"; got != want {
		t.Fatalf("outbox holds %s, want %s", got, want)
	}
	if o.bytes != 0 {
		t.Fatalf("empty outbox counts %d bytes", o.bytes)
	}
}

func TestOutboxDropsOldestByBytes(t *testing.T) {
	// Each message is 1+3 bytes; 10 bytes hold two.
	o := newOutbox(100, 10)
	dropped := 0
	for i := range 5 {
		dropped += o.push(msg(i))
	}
	if dropped != 3 || o.len() != 2 || o.bytes != 8 {
		t.Fatalf("dropped %d, len %d, bytes %d; want 3, 2, 8", dropped, o.len(), o.bytes)
	}
	if got, want := strings.Join(drain(&o), ","), "003,004"; got != want {
		t.Fatalf("outbox holds %s, want %s", got, want)
	}
}

func TestOutboxWrapsInOrder(t *testing.T) {
	o := newOutbox(4, 1<<20)
	var want []string
	next := 0
	for round := range 10 {
		for range round%4 + 1 {
			o.push(msg(next))
			next++
		}
		for range round%3 + 1 {
			if m, ok := o.pop(); ok {
				want = append(want, string(m.payload))
			}
		}
	}
	want = append(want, drain(&o)...)
	// Whatever was dropped, what comes out is strictly increasing.
	for i := 1; i < len(want); i++ {
		if want[i] <= want[i-1] {
			t.Fatalf("out of order at %d: %v", i, want)
		}
	}
	if want[len(want)-1] != fmt.Sprintf("%03d", next-1) {
		t.Fatalf("newest message %s missing: %v", fmt.Sprintf("%03d", next-1), want)
	}
}

func TestOutboxPopReleasesPayload(t *testing.T) {
	o := newOutbox(2, 1<<20)
	o.push(msg(1))
	o.pop()
	if o.buf[0].payload != nil {
		t.Fatal("a popped slot still references its payload")
	}
}
