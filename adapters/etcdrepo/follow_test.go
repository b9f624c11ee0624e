package etcdrepo

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/snowmerak/clustering/adapters/etcdrepo/internal/etcdtest"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest/repotest"
)

// TestFollowResumesWhenTheEtcdWatchEnds hands follow a first etcd watch that
// ends early (as one cancelled for a lost leader does), possibly after
// replaying a change, and checks that the watch started in its place
// delivers every later change exactly once. The repository uses the prefix
// of the unit tests' event builders (put, events).
func TestFollowResumesWhenTheEtcdWatchEnds(t *testing.T) {
	s := etcdtest.New(t, etcdtest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := Open(ctx, Config{Endpoints: []string{s.Endpoint()}, Prefix: testPrefix, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, r.Close()) })

	_, start, err := r.List(ctx)
	require.NoError(t, err)
	ms := repotest.NewMembers(t, 4)
	revs := make([]int64, len(ms))
	for i, m := range ms {
		revs[i], err = r.Put(ctx, m, 0)
		require.NoError(t, err)
	}
	tests := []struct {
		name      string
		responses []clientv3.WatchResponse
	}{
		{"EndsAfterTwoChanges", []clientv3.WatchResponse{
			events(put(t, ms[0], revs[0]), put(t, ms[1], revs[1])),
		}},
		{"ReplaysAChangeThenEnds", []clientv3.WatchResponse{
			events(put(t, ms[0], revs[0]), put(t, ms[1], revs[1])),
			events(put(t, ms[1], revs[1])),
		}},
		{"CancelledByTheServer", []clientv3.WatchResponse{
			events(put(t, ms[0], revs[0])),
			{Canceled: true},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			first := make(chan clientv3.WatchResponse, len(tc.responses))
			for _, resp := range tc.responses {
				first <- resp
			}
			close(first)
			wctx, stop := context.WithCancel(ctx)
			out := make(chan core.MemberEvent)
			done := make(chan struct{})
			go func() {
				defer close(done)
				r.follow(wctx, &cursor{prefix: r.prefix, last: start, log: r.log}, out, first, func() {})
			}()
			defer func() { stop(); <-done }()
			for i, want := range revs {
				select {
				case ev := <-out:
					require.NoError(t, ev.Err)
					assert.Equal(t, ms[i].ID, ev.Member.ID, "change %d", i)
					assert.Equal(t, want, ev.Revision, "change %d", i)
				case <-time.After(10 * time.Second):
					t.Fatalf("change %d not delivered", i)
				}
			}
			select {
			case ev := <-out:
				t.Fatalf("unexpected event %v %s at %d", ev.Type, ev.Member.ID.Short(), ev.Revision)
			case <-time.After(300 * time.Millisecond):
			}
		})
	}
}
