package repotest

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/snowmerak/clustering/core"
)

// Repo is an in-memory core.MemberRepo for tests of layers that cannot
// import adapters (membership, transport): the same behaviour as
// adapters/memrepo, checked by the same contract (Run).
type Repo struct {
	history int

	mu        sync.Mutex
	members   map[core.NodeID]core.Member
	rev       int64
	log       []core.MemberEvent // changes with revisions compacted+1 .. rev
	compacted int64
	changed   chan struct{} // closed and replaced on every change
	done      chan struct{}
	closed    bool
}

var _ core.MemberRepo = (*Repo)(nil)

// NewRepo returns an empty in-memory repository at revision 0 that keeps
// the last history changes for resuming watches (at least 1).
func NewRepo(history int) *Repo {
	r := &Repo{
		history: max(history, 1),
		members: make(map[core.NodeID]core.Member),
		changed: make(chan struct{}),
		done:    make(chan struct{}),
	}
	return r
}

// Close ends every watch and makes later calls fail with core.ErrClosed.
func (r *Repo) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.closed = true
		close(r.done)
	}
	return nil
}

// check returns the reason an operation cannot start; callers hold r.mu.
func (r *Repo) check(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("repotest fake: %s: %w", op, err)
	}
	if r.closed {
		return fmt.Errorf("repotest fake: %s: %w", op, core.ErrClosed)
	}
	return nil
}

// List returns every member sorted by ID and the current revision.
func (r *Repo) List(ctx context.Context) ([]core.Member, int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.check(ctx, "list"); err != nil {
		return nil, 0, err
	}
	out := make([]core.Member, 0, len(r.members))
	for _, m := range r.members {
		out = append(out, m.Clone())
	}
	slices.SortFunc(out, func(a, b core.Member) int { return slices.Compare(a.ID[:], b.ID[:]) })
	return out, r.rev, nil
}

// Get returns the member with the given ID, or an error wrapping core.ErrNotFound.
func (r *Repo) Get(ctx context.Context, id core.NodeID) (core.Member, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.check(ctx, "get"); err != nil {
		return core.Member{}, err
	}
	m, ok := r.members[id]
	if !ok {
		return core.Member{}, fmt.Errorf("repotest fake: get %s: %w", id.Short(), core.ErrNotFound)
	}
	return m.Clone(), nil
}

// Put stores m if its stored revision equals expect (0: absent; core.AnyRevision: no check).
func (r *Repo) Put(ctx context.Context, m core.Member, expect int64) (int64, error) {
	if m.ID.IsZero() {
		return 0, fmt.Errorf("repotest fake: put: zero member ID: %w", core.ErrInvalidInput)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.check(ctx, "put"); err != nil {
		return 0, err
	}
	if cur := r.members[m.ID].Revision; expect != core.AnyRevision && cur != expect {
		return 0, fmt.Errorf("repotest fake: put %s: stored revision %d, expected %d: %w", m.ID.Short(), cur, expect, core.ErrConflict)
	}
	m = m.Clone()
	m.Revision = r.rev + 1
	r.members[m.ID] = m
	r.record(core.EventPut, m)
	return m.Revision, nil
}

// Delete removes the member if its revision equals expect (core.AnyRevision: no check).
func (r *Repo) Delete(ctx context.Context, id core.NodeID, expect int64) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.check(ctx, "delete"); err != nil {
		return 0, err
	}
	cur, ok := r.members[id]
	if !ok {
		return 0, fmt.Errorf("repotest fake: delete %s: %w", id.Short(), core.ErrNotFound)
	}
	if expect != core.AnyRevision && cur.Revision != expect {
		return 0, fmt.Errorf("repotest fake: delete %s: stored revision %d, expected %d: %w", id.Short(), cur.Revision, expect, core.ErrConflict)
	}
	delete(r.members, id)
	r.record(core.EventDelete, core.Member{ID: id, Revision: r.rev + 1})
	return r.rev, nil
}

// record appends a change at the next revision and wakes watchers; callers hold r.mu.
func (r *Repo) record(t core.EventType, m core.Member) {
	r.rev++
	r.log = append(r.log, core.MemberEvent{Type: t, Member: m, Revision: r.rev})
	if len(r.log) > r.history {
		drop := len(r.log) - r.history
		r.compacted = r.log[drop-1].Revision
		if cap(r.log) > 2*r.history {
			r.log = slices.Clone(r.log[drop:])
		} else {
			r.log = r.log[drop:]
		}
	}
	close(r.changed)
	r.changed = make(chan struct{})
}

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
		return core.MemberEvent{}, nil, fmt.Errorf("repotest fake: watch after revision %d: history starts after %d: %w", pos, r.compacted, core.ErrCompacted)
	}
	if pos >= r.rev {
		return core.MemberEvent{}, r.changed, nil
	}
	ev := r.log[pos-r.compacted]
	ev.Member = ev.Member.Clone()
	return ev, nil, nil
}
