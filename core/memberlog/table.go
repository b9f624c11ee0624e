// Package memberlog is a revisioned in-memory member table with a bounded
// change history and watchers: the state behind every core.MemberRepo that
// keeps its registry, or a mirror of it, in memory.
//
// A [Table] implements core.MemberRepo. Every change bumps one registry
// revision, as etcd does. The last Config.History changes are kept so that a
// watch can resume from an older revision; a watch that asks for changes
// older than that receives core.ErrCompacted and should List again. Watchers
// never slow writers down: each reads the shared history at its own pace.
//
// An adapter that persists the registry elsewhere (a file) mirrors it in a
// Table and serves reads and watches from it: under its own lock it checks a
// change with [Table.CheckPut] or [Table.CheckDelete], persists
// [Table.Snapshot] with the change applied, then records the change with
// [Table.ApplyPut] or [Table.ApplyDelete]. When the persisted state changes in
// a way it cannot replay change by change, [Table.Reset] installs the new
// state and ends the watches in progress with core.ErrCompacted.
package memberlog

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/snowmerak/clustering/core"
)

// DefaultHistory is the number of recent changes a Table keeps for watches
// when Config.History is not set.
const DefaultHistory = 4096

// Config configures New.
type Config struct {
	// Name begins every error message and names the repository the table
	// serves ("memrepo"); "memberlog" when empty.
	Name string
	// History is how many recent changes are kept for resuming watches;
	// DefaultHistory when ≤ 0.
	History int
}

// Table is a revisioned in-memory member table, safe for concurrent use.
type Table struct {
	name    string
	history int

	mu        sync.Mutex
	members   map[core.NodeID]core.Member
	rev       int64
	log       []core.MemberEvent // changes with revisions compacted+1 .. rev
	compacted int64
	epoch     uint64        // bumped by Reset: watches of an older epoch end
	reason    string        // why the last Reset dropped the history
	changed   chan struct{} // closed and replaced on every change
	done      chan struct{} // closed by Close
	closed    bool
}

var _ core.MemberRepo = (*Table)(nil)

// New returns an empty table at revision 0.
func New(cfg Config) *Table {
	if cfg.Name == "" {
		cfg.Name = "memberlog"
	}
	if cfg.History <= 0 {
		cfg.History = DefaultHistory
	}
	return &Table{
		name:    cfg.Name,
		history: cfg.History,
		members: make(map[core.NodeID]core.Member),
		changed: make(chan struct{}),
		done:    make(chan struct{}),
	}
}

// Close ends every watch and makes later calls of the core.MemberRepo
// methods fail with core.ErrClosed. It is idempotent and returns nil.
func (t *Table) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.closed {
		t.closed = true
		close(t.done)
	}
	return nil
}

// check returns the reason an operation cannot start; callers hold t.mu.
func (t *Table) check(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %s: %w", t.name, op, err)
	}
	if t.closed {
		return fmt.Errorf("%s: %s: %w", t.name, op, core.ErrClosed)
	}
	return nil
}

// List returns every member sorted by ID and the current revision.
func (t *Table) List(ctx context.Context) ([]core.Member, int64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.check(ctx, "list"); err != nil {
		return nil, 0, err
	}
	return t.snapshot(), t.rev, nil
}

// Get returns the member with the given ID, or an error wrapping core.ErrNotFound.
func (t *Table) Get(ctx context.Context, id core.NodeID) (core.Member, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.check(ctx, "get"); err != nil {
		return core.Member{}, err
	}
	m, ok := t.members[id]
	if !ok {
		return core.Member{}, fmt.Errorf("%s: get %s: %w", t.name, id.Short(), core.ErrNotFound)
	}
	return m.Clone(), nil
}

// Put stores m if its stored revision equals expect (0: absent;
// core.AnyRevision: no check) and returns its new revision.
func (t *Table) Put(ctx context.Context, m core.Member, expect int64) (int64, error) {
	if m.ID.IsZero() {
		return 0, fmt.Errorf("%s: put: zero member ID: %w", t.name, core.ErrInvalidInput)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.check(ctx, "put"); err != nil {
		return 0, err
	}
	if err := t.checkPut(m.ID, expect); err != nil {
		return 0, fmt.Errorf("%s: put %s: %w", t.name, m.ID.Short(), err)
	}
	return t.put(m), nil
}

// Delete removes the member if its revision equals expect (core.AnyRevision:
// no check) and returns the revision of the removal.
func (t *Table) Delete(ctx context.Context, id core.NodeID, expect int64) (int64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.check(ctx, "delete"); err != nil {
		return 0, err
	}
	if err := t.checkDelete(id, expect); err != nil {
		return 0, fmt.Errorf("%s: delete %s: %w", t.name, id.Short(), err)
	}
	return t.delete(id), nil
}

// Snapshot returns a deep copy of every member, sorted by ID, and the
// revision it reflects. Unlike List it works on a closed table.
func (t *Table) Snapshot() ([]core.Member, int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.snapshot(), t.rev
}

// CheckPut reports whether Put(m, expect) with m.ID == id would pass the
// revision check: nil, or an error wrapping core.ErrConflict.
func (t *Table) CheckPut(id core.NodeID, expect int64) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.checkPut(id, expect)
}

// CheckDelete reports whether Delete(id, expect) would pass its checks: nil,
// core.ErrNotFound, or an error wrapping core.ErrConflict.
func (t *Table) CheckDelete(id core.NodeID, expect int64) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.checkDelete(id, expect)
}

// snapshot returns deep copies of the members sorted by ID; callers hold t.mu.
func (t *Table) snapshot() []core.Member {
	out := make([]core.Member, 0, len(t.members))
	for _, m := range t.members {
		out = append(out, m.Clone())
	}
	slices.SortFunc(out, func(a, b core.Member) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	return out
}

// checkPut applies Put's revision rule; callers hold t.mu.
func (t *Table) checkPut(id core.NodeID, expect int64) error {
	if cur := t.members[id].Revision; expect != core.AnyRevision && cur != expect {
		return fmt.Errorf("stored revision %d, expected %d: %w", cur, expect, core.ErrConflict)
	}
	return nil
}

// checkDelete applies Delete's existence and revision rules; callers hold t.mu.
func (t *Table) checkDelete(id core.NodeID, expect int64) error {
	cur, ok := t.members[id]
	if !ok {
		return core.ErrNotFound
	}
	if expect != core.AnyRevision && cur.Revision != expect {
		return fmt.Errorf("stored revision %d, expected %d: %w", cur.Revision, expect, core.ErrConflict)
	}
	return nil
}
