package tutor

import (
	"container/list"
	"sync"
	"sync/atomic"

	"github.com/edgerun/edgerun/sdk/sdkrt"
)

// learner is one learner in memory. mu serialises the learner's
// requests; refs (under learners.mu) counts the requests holding it, and
// a learner held by one is never dropped, so two requests of one learner
// always meet on the same mu.
type learner struct {
	id    string
	mu    sync.Mutex
	state *sdkrt.TracingState // under mu; nil: not loaded or unknown
	known atomic.Bool         // state != nil
	refs  int
	elem  *list.Element
}

// learners is the bounded set of learners in memory, least recently used
// dropped first.
type learners struct {
	mu   sync.Mutex
	max  int
	byID map[string]*learner
	lru  list.List // of *learner, front: most recent
}

func newLearners(n int) *learners {
	return &learners{max: n, byID: map[string]*learner{}}
}

// acquire returns the learner id, made when absent, held until release.
func (l *learners) acquire(id string) *learner {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.byID[id]
	if ok {
		l.lru.MoveToFront(e.elem)
	} else {
		e = &learner{id: id}
		e.elem = l.lru.PushFront(e)
		l.byID[id] = e
	}
	e.refs++
	l.trim()
	return e
}

// release lets e go; a learner left without a state (unknown, or its
// load failed) is forgotten.
func (l *learners) release(e *learner) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e.refs--
	if e.refs == 0 && !e.known.Load() {
		l.remove(e)
	}
	l.trim()
}

// trim drops the least recently used learners no request holds until at
// most max are left (more while requests hold them).
func (l *learners) trim() {
	for el := l.lru.Back(); el != nil && l.lru.Len() > l.max; {
		e := el.Value.(*learner)
		el = el.Prev()
		if e.refs == 0 {
			l.remove(e)
		}
	}
}

func (l *learners) remove(e *learner) {
	if l.byID[e.id] == e {
		delete(l.byID, e.id)
		l.lru.Remove(e.elem)
	}
}

func (l *learners) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lru.Len()
}
