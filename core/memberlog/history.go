package memberlog

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/snowmerak/clustering/core"
)

// ApplyPut stores a copy of m at the next revision without a revision check,
// records the change for watches and returns the revision. It is for owners
// that checked the change with CheckPut and persisted it, under a lock of
// their own that orders their changes; it works on a closed table.
func (t *Table) ApplyPut(m core.Member) int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.put(m)
}

// ApplyDelete removes id at the next revision without a check, records the
// change for watches and returns the revision (see ApplyPut).
func (t *Table) ApplyDelete(id core.NodeID) int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.delete(id)
}

// Reset replaces the whole table with copies of members at revision rev,
// which must be at least every member's Revision, and drops the history:
// watches in progress end with an event wrapping core.ErrCompacted that gives
// reason, and later watches can resume from rev onwards. It is for owners
// whose persisted state changed in a way they cannot replay change by change.
func (t *Table) Reset(members []core.Member, rev int64, reason string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.members = make(map[core.NodeID]core.Member, len(members))
	for _, m := range members {
		t.members[m.ID] = m.Clone()
	}
	t.rev, t.compacted, t.log = rev, rev, nil
	t.epoch++
	t.reason = cmp.Or(reason, "the history was reset")
	t.wake()
}

// put stores a copy of m at the next revision; callers hold t.mu.
func (t *Table) put(m core.Member) int64 {
	m = m.Clone()
	m.Revision = t.rev + 1
	t.members[m.ID] = m
	t.record(core.EventPut, m)
	return m.Revision
}

// delete removes id at the next revision; callers hold t.mu.
func (t *Table) delete(id core.NodeID) int64 {
	delete(t.members, id)
	t.record(core.EventDelete, core.Member{ID: id, Revision: t.rev + 1})
	return t.rev
}

// record appends a change at the next revision, drops the changes beyond the
// kept history and wakes watchers; callers hold t.mu.
func (t *Table) record(typ core.EventType, m core.Member) {
	t.rev++
	t.log = append(t.log, core.MemberEvent{Type: typ, Member: m, Revision: t.rev})
	if len(t.log) > t.history {
		drop := len(t.log) - t.history
		t.compacted = t.log[drop-1].Revision
		if cap(t.log) > 2*t.history {
			t.log = slices.Clone(t.log[drop:])
		} else {
			t.log = t.log[drop:]
		}
	}
	t.wake()
}

// wake tells every waiting watcher that the table changed; callers hold t.mu.
func (t *Table) wake() {
	close(t.changed)
	t.changed = make(chan struct{})
}

// Watch delivers every change after revision after, in order, until ctx ends
// or the table closes. If the history no longer holds the revision after
// after, or a Reset drops the history while the watch runs, the last event
// carries an error wrapping core.ErrCompacted.
func (t *Table) Watch(ctx context.Context, after int64) (<-chan core.MemberEvent, error) {
	t.mu.Lock()
	err := t.check(ctx, "watch")
	epoch := t.epoch
	t.mu.Unlock()
	if err != nil {
		return nil, err
	}
	ch := make(chan core.MemberEvent)
	go t.follow(ctx, after, epoch, ch)
	return ch, nil
}

// follow feeds ch from the shared history, waiting for changes as needed.
func (t *Table) follow(ctx context.Context, pos int64, epoch uint64, ch chan<- core.MemberEvent) {
	defer close(ch)
	for {
		ev, wait, err := t.next(pos, epoch)
		if err != nil {
			ev = core.MemberEvent{Err: err, Revision: pos}
		}
		if wait != nil {
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return
			case <-t.done:
				return
			}
		}
		select {
		case ch <- ev:
		case <-ctx.Done():
			return
		case <-t.done:
			return
		}
		if err != nil {
			return
		}
		pos = ev.Revision
	}
}

// next returns the change after pos, or a channel that closes on the next change.
func (t *Table) next(pos int64, epoch uint64) (core.MemberEvent, <-chan struct{}, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if epoch != t.epoch {
		return core.MemberEvent{}, nil, fmt.Errorf("%s: watch: %s: %w", t.name, t.reason, core.ErrCompacted)
	}
	if pos < t.compacted {
		return core.MemberEvent{}, nil, fmt.Errorf("%s: watch after revision %d: history starts after %d: %w", t.name, pos, t.compacted, core.ErrCompacted)
	}
	if pos >= t.rev {
		return core.MemberEvent{}, t.changed, nil
	}
	ev := t.log[pos-t.compacted]
	ev.Member = ev.Member.Clone()
	return ev, nil, nil
}
