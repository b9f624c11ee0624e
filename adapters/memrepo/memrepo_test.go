package memrepo_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/snowmerak/clustering/adapters/memrepo"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest/repotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestContract(t *testing.T) {
	repotest.Run(t, func(t *testing.T) core.MemberRepo {
		r := memrepo.New()
		t.Cleanup(func() { _ = r.Close() })
		return r
	})
}

func TestWatchBeforeHistoryIsCompacted(t *testing.T) {
	r := memrepo.New(memrepo.WithHistory(2))
	defer r.Close()
	ctx := context.Background()
	var revs []int64
	for i := range 4 {
		rev, err := r.Put(ctx, repotest.NewMember(t, i), 0)
		require.NoError(t, err)
		revs = append(revs, rev)
	}
	tests := []struct {
		name      string
		after     int64
		compacted bool
		first     int64
	}{
		{"OlderThanHistoryIsCompacted", revs[0], true, 0},
		{"OldestKeptIsReplayed", revs[1], false, revs[2]},
		{"LatestWaitsForNext", revs[3], false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wctx, cancel := context.WithCancel(ctx)
			defer cancel()
			ch, err := r.Watch(wctx, tc.after)
			require.NoError(t, err)
			select {
			case ev, ok := <-ch:
				if tc.first == 0 && !tc.compacted {
					t.Fatalf("unexpected event %+v (open %v)", ev, ok)
				}
				require.True(t, ok)
				if tc.compacted {
					require.ErrorIs(t, ev.Err, core.ErrCompacted)
					_, open := <-ch
					require.False(t, open, "channel must close after the error event")
					return
				}
				require.NoError(t, ev.Err)
				require.Equal(t, tc.first, ev.Revision)
			case <-time.After(100 * time.Millisecond):
				require.Zero(t, tc.first, "no event for a replayable revision")
				require.False(t, tc.compacted)
			}
		})
	}
}

func TestCloseEndsWatchesAndCalls(t *testing.T) {
	r := memrepo.New()
	ch, err := r.Watch(context.Background(), 0)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	_, open := <-ch
	require.False(t, open)
	_, err = r.Put(context.Background(), repotest.NewMember(t, 1), 0)
	require.True(t, errors.Is(err, core.ErrClosed), "Put after Close: %v", err)
	require.NoError(t, r.Close(), "Close is idempotent")
}

func TestPutRejectsZeroID(t *testing.T) {
	r := memrepo.New()
	defer r.Close()
	_, err := r.Put(context.Background(), core.Member{Zone: "z"}, 0)
	require.ErrorIs(t, err, core.ErrInvalidInput)
}

func TestSlowWatcherDoesNotBlockWriters(t *testing.T) {
	r := memrepo.New(memrepo.WithHistory(8))
	defer r.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := r.Watch(ctx, 0)
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 100 {
			_, err := r.Put(ctx, repotest.NewMember(t, i%5), core.AnyRevision)
			assert.NoError(t, err)
		}
	}()
	select {
	case <-done:
	case <-time.After(repotest.Timeout):
		t.Fatal("writers blocked by a watcher that does not read")
	}
	// The watcher fell behind the kept history: it learns it must List again.
	var last core.MemberEvent
	for ev := range ch {
		last = ev
	}
	require.ErrorIs(t, last.Err, core.ErrCompacted)
}
