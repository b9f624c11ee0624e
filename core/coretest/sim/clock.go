package sim

import (
	"container/heap"
	"sync"
	"time"

	"github.com/snowmerak/clustering/core"
)

// Clock is a virtual core.Clock. Time stands still until Step, RunFor or
// RunUntil advances it; they run due timers in order of due time, ties in order
// of scheduling, on the calling goroutine. It is safe for concurrent use, but
// only one goroutine may run events at a time (the Run methods serialise).
type Clock struct {
	run sync.Mutex // held while events run, so runners serialise

	mu     sync.Mutex
	now    time.Time
	seq    uint64
	events eventHeap
}

// NewClock returns a clock that reads start until it is advanced.
func NewClock(start time.Time) *Clock {
	return &Clock{now: start}
}

// Now returns the current virtual time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc schedules f to run d after the current virtual time (at once, in
// scheduling order, when d ≤ 0) on the goroutine that advances the clock.
func (c *Clock) AfterFunc(d time.Duration, f func()) core.Timer {
	if d < 0 {
		d = 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	e := &event{when: c.now.Add(d), seq: c.seq, f: f, clock: c}
	heap.Push(&c.events, e)
	return e
}

// Pending returns the number of scheduled events that have not run or been stopped.
func (c *Clock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.events)
}

// Step runs the earliest pending event, advancing time to it, and reports
// whether there was one.
func (c *Clock) Step() bool {
	c.run.Lock()
	defer c.run.Unlock()
	return c.step(time.Time{}, false)
}

// RunFor runs every event due within d of now, then leaves the clock at now+d.
// It returns the number of events run.
func (c *Clock) RunFor(d time.Duration) int {
	return c.RunUntil(c.Now().Add(d))
}

// RunUntil runs every event due at or before t, in order, then leaves the
// clock at t (or where it was, if that is later). It returns the number of
// events run; events scheduled while it runs are included when due by t.
func (c *Clock) RunUntil(t time.Time) int {
	c.run.Lock()
	defer c.run.Unlock()
	n := 0
	for c.step(t, true) {
		n++
	}
	c.mu.Lock()
	if t.After(c.now) {
		c.now = t
	}
	c.mu.Unlock()
	return n
}

// step pops and runs the earliest event (not later than limit when bounded).
func (c *Clock) step(limit time.Time, bounded bool) bool {
	c.mu.Lock()
	if len(c.events) == 0 || (bounded && c.events[0].when.After(limit)) {
		c.mu.Unlock()
		return false
	}
	e := heap.Pop(&c.events).(*event)
	if e.when.After(c.now) {
		c.now = e.when
	}
	c.mu.Unlock()
	e.f()
	return true
}

// event is one scheduled call; it is also the core.Timer AfterFunc returns.
type event struct {
	when  time.Time
	seq   uint64
	f     func()
	index int // position in the heap, -1 once popped or stopped
	clock *Clock
}

// Stop removes the event if it has not run; it reports whether it did so.
func (e *event) Stop() bool {
	c := e.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.index < 0 {
		return false
	}
	heap.Remove(&c.events, e.index)
	return true
}

// eventHeap orders events by due time, then by scheduling order.
type eventHeap []*event

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if !h[i].when.Equal(h[j].when) {
		return h[i].when.Before(h[j].when)
	}
	return h[i].seq < h[j].seq
}
func (h eventHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *eventHeap) Push(x any) {
	e := x.(*event)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *eventHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	e.index = -1
	*h = old[:len(old)-1]
	return e
}
