package csvrepo

import (
	"context"

	"github.com/snowmerak/clustering/core"
)

// Watch delivers every change after revision after, in order, until ctx ends
// or the repository closes. Changes made through this Repo are delivered as
// they happen; changes other writers make to the file are picked up by
// polling (see WithPollInterval) and delivered when they can be replayed one
// by one, else the watch ends with an event wrapping core.ErrCompacted. A
// revision older than the kept history, or than the file's revision when the
// Repo was opened, also gets core.ErrCompacted.
func (r *Repo) Watch(ctx context.Context, after int64) (<-chan core.MemberEvent, error) {
	return r.table.Watch(ctx, after)
}
