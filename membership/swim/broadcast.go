package swim

import (
	"slices"

	"github.com/snowmerak/clustering/core"
)

// maxQueued bounds the broadcast queue; the oldest notices go first.
const maxQueued = 4096

// queued is a notice waiting to be piggybacked or gossiped.
type queued struct {
	n         notice
	transmits int
	seq       uint64 // enqueue order, newest highest
}

// broadcastQueue holds notices until each has been sent retransmitLimit
// times (memberlist's TransmitLimitedQueue): the least-sent go first, newest
// first among equals, and a notice about a member supersedes queued notices
// about it with a lower incarnation or kind.
type broadcastQueue struct {
	items []*queued
	seq   uint64
}

func (q *broadcastQueue) len() int { return len(q.items) }

// push queues n, dropping notices it supersedes.
func (q *broadcastQueue) push(n notice) {
	q.items = slices.DeleteFunc(q.items, func(it *queued) bool {
		return it.n.subject == n.subject && (it.n.digest == n.digest || it.n.key().less(n.key()))
	})
	if len(q.items) >= maxQueued {
		oldest := 0
		for i, it := range q.items {
			if it.seq < q.items[oldest].seq {
				oldest = i
			}
		}
		q.items = slices.Delete(q.items, oldest, oldest+1)
	}
	q.seq++
	q.items = append(q.items, &queued{n: n, seq: q.seq})
}

// take returns up to limit notices to send, notices about first (the probe
// target, Lifeguard's buddy system) ahead of the rest, counts the
// transmission, and drops notices that reach retransmits.
func (q *broadcastQueue) take(limit, retransmits int, first *core.NodeID) []notice {
	if limit <= 0 || len(q.items) == 0 {
		return nil
	}
	slices.SortFunc(q.items, func(a, b *queued) int {
		if first != nil && (a.n.subject == *first) != (b.n.subject == *first) {
			if a.n.subject == *first {
				return -1
			}
			return 1
		}
		if a.transmits != b.transmits {
			return a.transmits - b.transmits
		}
		return int(int64(b.seq) - int64(a.seq))
	})
	n := min(limit, len(q.items))
	out := make([]notice, n)
	for i, it := range q.items[:n] {
		out[i] = it.n
		it.transmits++
	}
	q.items = slices.DeleteFunc(q.items, func(it *queued) bool { return it.transmits >= retransmits })
	return out
}
