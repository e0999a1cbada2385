// Package mqtt publishes a pipeline's readings and alerts to an MQTT broker
// through github.com/eclipse/paho.mqtt.golang, without ever blocking the
// caller or holding more than a fixed amount of memory.
//
// A Publisher owns a bounded in-memory outbox and one sender goroutine.
// Publish copies the message into the outbox and returns at once; when the
// outbox is full (Options.Outbox messages or Options.OutboxBytes bytes) the
// oldest waiting message is dropped and counted. The sender connects in the
// background (a broker that is down at start is not an error), publishes the
// outbox in order and, at QoS 1, removes a message only after its PUBACK:
// delivery is at-least-once and in order. When the connection fails it
// reconnects with exponential back-off with jitter between Options.MinBackoff
// and Options.MaxBackoff, and resends from the first unacknowledged message.
// Close stops taking messages, flushes the outbox until its context ends,
// disconnects and reports how many messages were left unsent.
//
// Broker URLs are tcp:// or mqtt:// (plain TCP, port 1883 by default) and
// ssl://, tls:// or mqtts:// (TLS, port 8883 by default).
//
// The package lives under tools/edgerun: boards/ imports only
// periph.io/x/conn/v3, so the MQTT sink is wired in by the edgerun command.
package mqtt
