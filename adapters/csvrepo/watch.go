package csvrepo

import (
	"context"
	"fmt"
	"slices"

	"github.com/snowmerak/clustering/core"
)

// Watch delivers every change after revision after, in order, until ctx ends
// or the repository closes. Changes made through this Repo are delivered as
// they happen; changes other writers make to the file are picked up by
// polling (see WithPollInterval) and delivered when they can be replayed one
// by one, else the watch ends with an event wrapping core.ErrCompacted. A
// revision older than the kept history also gets core.ErrCompacted.
func (r *Repo) Watch(ctx context.Context, after int64) (<-chan core.MemberEvent, error) {
	r.mu.Lock()
	err := ctx.Err()
	if err == nil && r.closed {
		err = core.ErrClosed
	}
	epoch := r.epoch
	r.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("csvrepo: watch: %w", err)
	}
	ch := make(chan core.MemberEvent)
	go r.follow(ctx, after, epoch, ch)
	return ch, nil
}

// record appends a change to the history and wakes watchers; callers hold r.mu.
func (r *Repo) record(ev core.MemberEvent) {
	r.rev = ev.Revision
	r.log = append(r.log, ev)
	if len(r.log) > r.history {
		drop := len(r.log) - r.history
		r.compacted = r.log[drop-1].Revision
		r.log = slices.Clone(r.log[drop:])
	}
	r.wake()
}

// wake tells every waiting watcher that the state changed; callers hold r.mu.
func (r *Repo) wake() {
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *Repo) follow(ctx context.Context, pos int64, epoch uint64, ch chan<- core.MemberEvent) {
	defer close(ch)
	for {
		ev, wait, err := r.next(pos, epoch)
		if err != nil {
			ev = core.MemberEvent{Err: err, Revision: pos}
		}
		if wait != nil {
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return
			case <-r.done:
				return
			}
		}
		select {
		case ch <- ev:
		case <-ctx.Done():
			return
		case <-r.done:
			return
		}
		if err != nil {
			return
		}
		pos = ev.Revision
	}
}

// next returns the change after pos, or a channel that closes on the next change.
func (r *Repo) next(pos int64, epoch uint64) (core.MemberEvent, <-chan struct{}, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if epoch != r.epoch {
		return core.MemberEvent{}, nil, fmt.Errorf("csvrepo: watch: the file was changed in a way that cannot be replayed: %w", core.ErrCompacted)
	}
	if pos < r.compacted {
		return core.MemberEvent{}, nil, fmt.Errorf("csvrepo: watch after revision %d: history starts after %d: %w", pos, r.compacted, core.ErrCompacted)
	}
	if pos >= r.rev {
		return core.MemberEvent{}, r.changed, nil
	}
	ev := r.log[pos-r.compacted]
	ev.Member = ev.Member.Clone()
	return ev, nil, nil
}
