package serve

import (
	"runtime/debug"
	"sync"
	"time"
)

// bodyCostFactor is how many bytes of memory an invocation holds per byte of body while
// it is read, decoded and predicted: the body, the JSON decoder's copy of it, the decoded
// values and the samples built from them. The largest JSON request (6 MB of short
// numbers) allocates about 72 MB in all; 8x the body covers what is live at once.
const bodyCostFactor = 8

// BodyCost is the memory an invocation with a body of n bytes is charged against the
// memory budget.
func BodyCost(n int64) int64 { return bodyCostFactor * n }

// Admission defaults.
const (
	// DefaultMemoryBudget bounds the memory charged to invocations at once: five of the
	// largest (6 MB) requests.
	DefaultMemoryBudget = 256 << 20
	// DefaultMaxInflight bounds invocations admitted at once, waiting ones included.
	DefaultMaxInflight = 64
	// retryAfterSeconds is the Retry-After of a refused request: a request's usual time.
	retryAfterSeconds = "1"
	// reclaimAfter is the memory charged since the last reclaim that makes an idle server
	// return its free memory to the system; reclaimDelay is how long it must stay idle.
	reclaimAfter = 64 << 20
	reclaimDelay = time.Second
)

// admission takes or refuses invocations before their bodies are read: at most
// maxInflight at once, their charged memory within budget. A refusal costs nothing but a
// header, so load beyond capacity is answered at once and never queues without bound.
type admission struct {
	maxInflight int
	budget      int64

	mu           sync.Mutex
	inflight     int
	charged      int64
	sinceReclaim int64
	reclaim      *time.Timer
}

func newAdmission(maxInflight int, budget int64) *admission {
	return &admission{maxInflight: maxInflight, budget: budget}
}

// cost is what a body of n bytes is charged: at most the whole budget, so one request
// larger than the budget still runs when it is alone.
func (a *admission) cost(n int64) int64 { return min(BodyCost(n), a.budget) }

// ticket is one admitted request's charge; grow adds to it as the request turns out
// to need more (a chunked body as it arrives, the cases once counted).
type ticket struct {
	a       *admission
	charged int64
	once    sync.Once
}

// acquire admits a request whose body has n bytes, or reports false. release must be
// called once when the request is done with its memory.
func (a *admission) acquire(n int64) (*ticket, bool) {
	c := a.cost(n)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.inflight >= a.maxInflight || a.charged+c > a.budget {
		return nil, false
	}
	a.inflight++
	a.charged += c
	a.sinceReclaim += c
	return &ticket{a: a, charged: c}, true
}

// grow charges extra bytes of memory more, or reports false when the budget cannot
// take them. A request is never charged more than the whole budget in all, so one
// larger than the budget still runs when it is alone.
func (t *ticket) grow(extra int64) bool {
	a := t.a
	a.mu.Lock()
	defer a.mu.Unlock()
	extra = max(0, min(extra, a.budget-t.charged))
	if a.charged+extra > a.budget {
		return false
	}
	a.charged += extra
	a.sinceReclaim += extra
	t.charged += extra
	return true
}

// release gives the request's charge back; later calls do nothing.
func (t *ticket) release() { t.once.Do(func() { t.a.release(t.charged) }) }

func (a *admission) release(c int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.inflight--
	a.charged -= c
	if a.inflight == 0 && a.sinceReclaim >= reclaimAfter && a.reclaim == nil {
		a.reclaim = time.AfterFunc(reclaimDelay, a.reclaimIfIdle)
	}
}

// reclaimIfIdle gives the memory of a burst back to the system once the server is idle;
// left to the runtime's background scavenger it takes minutes, and an endpoint's memory
// would look as if it still held the burst.
func (a *admission) reclaimIfIdle() {
	a.mu.Lock()
	a.reclaim = nil
	idle := a.inflight == 0
	if idle {
		a.sinceReclaim = 0
	}
	a.mu.Unlock()
	if idle {
		debug.FreeOSMemory()
	}
}

// concurrentAtMost is how many requests of n bytes fit at once.
func (a *admission) concurrentAtMost(n int64) int {
	return max(1, min(a.maxInflight, int(a.budget/a.cost(n))))
}
