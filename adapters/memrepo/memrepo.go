// Package memrepo is an in-memory core.MemberRepo with revisions, a bounded
// change history and watches: the repository of unit tests and of a single
// process that needs no shared registry.
//
// Every write bumps one registry revision, as etcd does. The last History
// changes are kept so a watch can resume from an older revision; a watch that
// asks for changes older than that receives core.ErrCompacted and should List
// again. Watchers never slow writers down: each watcher reads the shared
// history at its own pace. The table itself is core/memberlog's; this package
// names it and configures it.
package memrepo

import (
	"context"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/memberlog"
)

// DefaultHistory is the number of recent changes a Repo keeps for watches.
const DefaultHistory = memberlog.DefaultHistory

// Repo is an in-memory member repository, safe for concurrent use.
type Repo struct {
	history int // set by options, read once by New
	table   *memberlog.Table
}

var _ core.MemberRepo = (*Repo)(nil)

// Option configures New.
type Option func(*Repo)

// WithHistory sets how many recent changes are kept for resuming watches
// (at least 1; DefaultHistory when not set).
func WithHistory(n int) Option {
	return func(r *Repo) { r.history = max(n, 1) }
}

// New returns an empty repository at revision 0.
func New(opts ...Option) *Repo {
	r := &Repo{history: DefaultHistory}
	for _, o := range opts {
		o(r)
	}
	r.table = memberlog.New(memberlog.Config{Name: "memrepo", History: r.history})
	return r
}

// Close ends every watch and makes later calls fail with core.ErrClosed.
func (r *Repo) Close() error { return r.table.Close() }

// List returns every member sorted by ID and the current revision.
func (r *Repo) List(ctx context.Context) ([]core.Member, int64, error) { return r.table.List(ctx) }

// Get returns the member with the given ID, or an error wrapping core.ErrNotFound.
func (r *Repo) Get(ctx context.Context, id core.NodeID) (core.Member, error) {
	return r.table.Get(ctx, id)
}

// Put stores m if its stored revision equals expect (0: absent; core.AnyRevision: no check).
func (r *Repo) Put(ctx context.Context, m core.Member, expect int64) (int64, error) {
	return r.table.Put(ctx, m, expect)
}

// Delete removes the member if its revision equals expect (core.AnyRevision: no check).
func (r *Repo) Delete(ctx context.Context, id core.NodeID, expect int64) (int64, error) {
	return r.table.Delete(ctx, id, expect)
}

// Watch delivers every change after revision after, in order, until ctx ends
// or the repository closes. If the history no longer holds the revision after
// after, the only event carries an error wrapping core.ErrCompacted.
func (r *Repo) Watch(ctx context.Context, after int64) (<-chan core.MemberEvent, error) {
	return r.table.Watch(ctx, after)
}
