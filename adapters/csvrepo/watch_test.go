package csvrepo_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/snowmerak/clustering/adapters/csvrepo"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest/repotest"
	"github.com/stretchr/testify/require"
)

func nextEvent(t *testing.T, ch <-chan core.MemberEvent) core.MemberEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		require.True(t, ok, "watch closed")
		return ev
	case <-time.After(repotest.Timeout):
		t.Fatal("no event")
	}
	panic("unreachable")
}

// TestWatchSeesOtherWritersByPolling: puts by another Repo on the file are
// replayed with their own revisions; a delete cannot be replayed (the file
// keeps no tombstones), so the watch ends with ErrCompacted.
func TestWatchSeesOtherWritersByPolling(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "members.csv")
	writer := open(t, path, csvrepo.WithPollInterval(0))
	watcher := open(t, path, csvrepo.WithPollInterval(5*time.Millisecond))
	_, rev, err := watcher.List(ctx)
	require.NoError(t, err)
	ch, err := watcher.Watch(ctx, rev)
	require.NoError(t, err)

	m1, m2 := repotest.NewMember(t, 1), repotest.NewMember(t, 2)
	r1, err := writer.Put(ctx, m1, 0)
	require.NoError(t, err)
	r2, err := writer.Put(ctx, m2, 0)
	require.NoError(t, err)
	for _, want := range []struct {
		id  core.NodeID
		rev int64
	}{{m1.ID, r1}, {m2.ID, r2}} {
		ev := nextEvent(t, ch)
		require.NoError(t, ev.Err)
		require.Equal(t, core.EventPut, ev.Type)
		require.Equal(t, want.id, ev.Member.ID)
		require.Equal(t, want.rev, ev.Revision)
	}
	_, err = writer.Delete(ctx, m1.ID, core.AnyRevision)
	require.NoError(t, err)
	ev := nextEvent(t, ch)
	require.ErrorIs(t, ev.Err, core.ErrCompacted)
	_, open := <-ch
	require.False(t, open)
	ms, rev2, err := watcher.List(ctx)
	require.NoError(t, err)
	require.Len(t, ms, 1)
	require.Greater(t, rev2, r2)
}

// TestWatchAfterOpenStartsAtLoadedRevision: a file whose rows hold exactly
// revisions 1..n (a seed file, or one written by creates only) loads with its
// history starting at n, so a watch from the listed revision gets the next
// change, not a row that was loaded.
func TestWatchAfterOpenStartsAtLoadedRevision(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "members.csv")
	first := open(t, path, csvrepo.WithPollInterval(0))
	for i := 1; i <= 3; i++ {
		_, err := first.Put(ctx, repotest.NewMember(t, i), 0)
		require.NoError(t, err)
	}
	require.NoError(t, first.Close())

	r := open(t, path, csvrepo.WithPollInterval(0))
	_, rev, err := r.List(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(3), rev)
	ch, err := r.Watch(ctx, rev)
	require.NoError(t, err)
	m := repotest.NewMember(t, 4)
	put, err := r.Put(ctx, m, 0)
	require.NoError(t, err)
	ev := nextEvent(t, ch)
	require.NoError(t, ev.Err)
	require.Equal(t, put, ev.Revision)
	require.Equal(t, m.ID, ev.Member.ID)

	old, err := r.Watch(ctx, rev-1)
	require.NoError(t, err)
	require.ErrorIs(t, nextEvent(t, old).Err, core.ErrCompacted, "revisions before the load are not in the history")
}
