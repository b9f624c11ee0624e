package etcdrepo_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/adapters/etcdrepo/internal/etcdtest"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest/repotest"
)

// eventWait bounds the wait for one watch event, including a reconnection.
const eventWait = 20 * time.Second

// next returns the next event of ch, failing on close, error or timeout.
func next(t *testing.T, ch <-chan core.MemberEvent) core.MemberEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		require.True(t, ok, "watch closed early")
		require.NoError(t, ev.Err)
		return ev
	case <-time.After(eventWait):
		t.Fatalf("no event within %v", eventWait)
	}
	panic("unreachable")
}

// quietFor fails if ch delivers anything within d.
func quietFor(t *testing.T, ch <-chan core.MemberEvent, d time.Duration) {
	t.Helper()
	select {
	case ev, ok := <-ch:
		t.Fatalf("unexpected event %v %s at %d (open %v, err %v)", ev.Type, ev.Member.ID.Short(), ev.Revision, ok, ev.Err)
	case <-time.After(d):
	}
}

// TestWatchSurvivesServerRestartExactlyOnce stops etcd while a watch is open
// with changes still undelivered, lets the revision move past a compaction
// (other keys written, history compacted, only progress notifications
// telling the watch), restarts etcd on the same data and ports and checks
// that every change arrives once, in order, and nothing else.
func TestWatchSurvivesServerRestartExactlyOnce(t *testing.T) {
	s := etcdtest.New(t, etcdtest.Options{ProgressNotify: 100 * time.Millisecond})
	raw := rawClient(t, s)
	r := openRepo(t, s, "/restart/")
	_, rev, err := r.List(ctxT(t))
	require.NoError(t, err)
	ch, err := r.Watch(ctxT(t), rev)
	require.NoError(t, err)

	type change struct {
		id  core.NodeID
		rev int64
	}
	var want []change
	for i := range 3 {
		m := repotest.NewMember(t, i)
		rev, err := r.Put(ctxT(t), m, 0)
		require.NoError(t, err)
		want = append(want, change{m.ID, rev})
	}
	first := next(t, ch) // the other two wait in the client while etcd goes away
	assert.Equal(t, want[0].rev, first.Revision)

	for i := range 20 {
		_, err := raw.Put(ctxT(t), "/other/key", string(rune('a'+i)))
		require.NoError(t, err)
	}
	time.Sleep(500 * time.Millisecond) // several progress notifications
	cur, err := raw.Get(ctxT(t), "/other/key")
	require.NoError(t, err)
	_, err = raw.Compact(ctxT(t), cur.Header.Revision)
	require.NoError(t, err)

	s.Stop()
	require.NoError(t, s.Restart())
	require.Eventually(t, func() bool { _, _, err := r.List(ctxT(t)); return err == nil }, eventWait, 50*time.Millisecond)
	for i := 3; i < 6; i++ {
		m := repotest.NewMember(t, i)
		rev, err := r.Put(ctxT(t), m, 0)
		require.NoError(t, err)
		want = append(want, change{m.ID, rev})
	}

	for i, w := range want[1:] {
		ev := next(t, ch)
		assert.Equal(t, core.EventPut, ev.Type, "change %d", i+1)
		assert.Equal(t, w.id, ev.Member.ID, "change %d", i+1)
		assert.Equal(t, w.rev, ev.Revision, "change %d", i+1)
	}
	quietFor(t, ch, 500*time.Millisecond)
}

func TestWatchFromCompactedRevisionEndsWithErrCompacted(t *testing.T) {
	s := etcdtest.New(t, etcdtest.Options{})
	raw := rawClient(t, s)
	r := openRepo(t, s, "/compacted/")
	old, err := r.Put(ctxT(t), repotest.NewMember(t, 1), 0)
	require.NoError(t, err)
	latest, err := r.Put(ctxT(t), repotest.NewMember(t, 2), 0)
	require.NoError(t, err)
	_, err = raw.Compact(ctxT(t), latest)
	require.NoError(t, err)

	tests := []struct {
		name      string
		after     int64
		compacted bool
	}{
		{"BeforeCompactionPoint", old - 1, true},
		{"AtCompactionPointWaits", latest, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ch, err := r.Watch(ctxT(t), tc.after)
			require.NoError(t, err)
			if !tc.compacted {
				quietFor(t, ch, 300*time.Millisecond)
				return
			}
			ev, ok := <-ch
			require.True(t, ok)
			require.ErrorIs(t, ev.Err, core.ErrCompacted)
			_, ok = <-ch
			assert.False(t, ok, "the channel closes after the error")
		})
	}
}

func TestWatchFailsWhenEtcdIsGone(t *testing.T) {
	s := etcdtest.New(t, etcdtest.Options{})
	cfg := testConfig(s, "/gone/")
	cfg.RequestTimeout = 300 * time.Millisecond
	r := openConfig(t, cfg)
	s.Stop()
	start := time.Now()
	_, err := r.Watch(ctxT(t), 1)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 3*time.Second)
}
