package memrepo

import (
	"context"
	"fmt"

	"github.com/snowmerak/clustering/core"
)

// Watch delivers every change after revision after, in order, until ctx ends
// or the repository closes. If the history no longer holds the revision after
// after, the only event carries an error wrapping core.ErrCompacted.
func (r *Repo) Watch(ctx context.Context, after int64) (<-chan core.MemberEvent, error) {
	r.mu.Lock()
	err := r.check(ctx, "watch")
	r.mu.Unlock()
	if err != nil {
		return nil, err
	}
	ch := make(chan core.MemberEvent)
	go r.follow(ctx, after, ch)
	return ch, nil
}

// follow feeds ch from the shared history, waiting for changes as needed.
func (r *Repo) follow(ctx context.Context, pos int64, ch chan<- core.MemberEvent) {
	defer close(ch)
	for {
		ev, wait, err := r.next(pos)
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

// next returns the change after pos, or a channel that closes when one exists.
func (r *Repo) next(pos int64) (core.MemberEvent, <-chan struct{}, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if pos < r.compacted {
		return core.MemberEvent{}, nil, fmt.Errorf("memrepo: watch after revision %d: history starts after %d: %w", pos, r.compacted, core.ErrCompacted)
	}
	if pos >= r.rev {
		return core.MemberEvent{}, r.changed, nil
	}
	ev := r.log[pos-r.compacted]
	ev.Member = ev.Member.Clone()
	return ev, nil, nil
}
