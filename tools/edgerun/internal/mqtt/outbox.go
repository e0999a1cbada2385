package mqtt

// message is one queued publish. payload is the Publisher's own copy.
type message struct {
	topic   string
	payload []byte
}

func (m message) size() int { return len(m.topic) + len(m.payload) }

// outbox is a fixed-capacity FIFO of messages that also bounds the bytes it
// holds. push drops the oldest messages to make room; it never grows past
// the limits given to newOutbox.
type outbox struct {
	buf      []message // ring, len(buf) is the message limit
	head, n  int
	bytes    int
	maxBytes int
}

func newOutbox(maxMessages, maxBytes int) outbox {
	return outbox{buf: make([]message, maxMessages), maxBytes: maxBytes}
}

// push appends m, first dropping the oldest messages while the outbox is
// full by count or while m would not fit in the byte budget. It returns how
// many it dropped. The caller guarantees m.size() ≤ maxBytes.
func (o *outbox) push(m message) (dropped int) {
	for o.n > 0 && (o.n == len(o.buf) || o.bytes+m.size() > o.maxBytes) {
		o.pop()
		dropped++
	}
	o.buf[(o.head+o.n)%len(o.buf)] = m
	o.n++
	o.bytes += m.size()
	return dropped
}

// pop removes and returns the oldest message.
func (o *outbox) pop() (message, bool) {
	if o.n == 0 {
		return message{}, false
	}
	m := o.buf[o.head]
	o.buf[o.head] = message{} // let the payload go
	o.head = (o.head + 1) % len(o.buf)
	o.n--
	o.bytes -= m.size()
	return m, true
}

func (o *outbox) len() int { return o.n }
