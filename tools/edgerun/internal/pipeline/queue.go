package pipeline

import (
	"context"
	"sync"
)

// queue is a bounded FIFO between two stages, one consumer: when it is
// full, push drops the OLDEST item, so memory never grows and the
// consumer always gets the freshest data.
type queue[T any] struct {
	mu     sync.Mutex
	buf    []T
	head   int
	n      int
	closed bool
	ready  chan struct{} // a token when items or closing may be waiting
	space  chan struct{} // a token when room may be waiting
}

func newQueue[T any](capacity int) *queue[T] {
	return &queue[T]{buf: make([]T, capacity), ready: make(chan struct{}, 1), space: make(chan struct{}, 1)}
}

func (q *queue[T]) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// push adds v; it reports whether the oldest item was dropped for it.
// After close, push drops v itself and reports true.
func (q *queue[T]) push(v T) (dropped bool) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return true
	}
	if q.n == len(q.buf) {
		var zero T
		q.buf[q.head] = zero
		q.head = (q.head + 1) % len(q.buf)
		q.n--
		dropped = true
	}
	q.buf[(q.head+q.n)%len(q.buf)] = v
	q.n++
	q.mu.Unlock()
	q.signal()
	return dropped
}

// pushWait adds v, waiting while the queue is full (a source that can
// wait, such as a file); it returns false when ctx ends or the queue is
// closed first, v not added.
func (q *queue[T]) pushWait(ctx context.Context, v T) bool {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return false
		}
		if q.n < len(q.buf) {
			q.buf[(q.head+q.n)%len(q.buf)] = v
			q.n++
			q.mu.Unlock()
			q.signal()
			return true
		}
		q.mu.Unlock()
		select {
		case <-q.space:
		case <-ctx.Done():
			return false
		}
	}
}

// pop takes the oldest item; ok is false once the queue is closed and
// empty, or when ctx ends.
func (q *queue[T]) pop(ctx context.Context) (v T, ok bool) {
	for {
		q.mu.Lock()
		if q.n > 0 {
			v = q.buf[q.head]
			var zero T
			q.buf[q.head] = zero
			q.head = (q.head + 1) % len(q.buf)
			q.n--
			q.mu.Unlock()
			select {
			case q.space <- struct{}{}:
			default:
			}
			return v, true
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return v, false
		}
		select {
		case <-q.ready:
		case <-ctx.Done():
			return v, false
		}
	}
}

// len is the number of items waiting.
func (q *queue[T]) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

// close ends the queue: pop returns what is left, then ok false.
func (q *queue[T]) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}
