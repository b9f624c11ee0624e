package etcdrepo

import (
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest/repotest"
)

// put and del build etcd events for the tests.
func put(t *testing.T, m core.Member, rev int64) *clientv3.Event {
	t.Helper()
	val, err := encodeMember(m)
	require.NoError(t, err)
	return &clientv3.Event{Type: mvccpb.PUT, Kv: &mvccpb.KeyValue{Key: []byte(memberKey(testPrefix, m.ID)), Value: val, ModRevision: rev}}
}

func del(id core.NodeID, rev int64) *clientv3.Event {
	return &clientv3.Event{Type: mvccpb.DELETE, Kv: &mvccpb.KeyValue{Key: []byte(memberKey(testPrefix, id)), ModRevision: rev}}
}

func raw(key, value string, rev int64) *clientv3.Event {
	return &clientv3.Event{Type: mvccpb.PUT, Kv: &mvccpb.KeyValue{Key: []byte(key), Value: []byte(value), ModRevision: rev}}
}

func events(evs ...*clientv3.Event) clientv3.WatchResponse {
	return clientv3.WatchResponse{Header: pb.ResponseHeader{Revision: evs[len(evs)-1].Kv.ModRevision}, Events: evs}
}

type want struct {
	typ core.EventType
	id  core.NodeID
	rev int64
}

func TestCursorDeliversEachChangeOnce(t *testing.T) {
	a, b := repotest.NewMember(t, 1), repotest.NewMember(t, 2)
	tests := []struct {
		name  string
		last  int64
		resp  clientv3.WatchResponse
		want  []want
		next  int64
		error error
	}{
		{"NewEventsAreDelivered", 10, events(put(t, a, 11), del(b.ID, 12)),
			[]want{{core.EventPut, a.ID, 11}, {core.EventDelete, b.ID, 12}}, 12, nil},
		{"ReplayedEventsAreDropped", 11, events(put(t, a, 10), put(t, a, 11), put(t, b, 12)),
			[]want{{core.EventPut, b.ID, 12}}, 12, nil},
		{"FullyReplayedResponseLeavesCursor", 20, events(put(t, a, 19), del(b.ID, 20)), nil, 20, nil},
		{"EventsOfOneRevisionAllDelivered", 10, events(del(a.ID, 11), del(b.ID, 11)),
			[]want{{core.EventDelete, a.ID, 11}, {core.EventDelete, b.ID, 11}}, 11, nil},
		{"ProgressNotifyAdvancesCursor", 10, clientv3.WatchResponse{Header: pb.ResponseHeader{Revision: 50}}, nil, 50, nil},
		{"CreatedResponseChangesNothing", 10, clientv3.WatchResponse{Header: pb.ResponseHeader{Revision: 50}, Created: true}, nil, 10, nil},
		{"UndecodableRecordIsADelete", 10, events(raw(memberKey(testPrefix, a.ID), "garbage", 11)),
			[]want{{core.EventDelete, a.ID, 11}}, 11, nil},
		{"KeyThatNamesNoMemberIsSkipped", 10, events(raw(testPrefix+"junk", "x", 11), put(t, b, 12)),
			[]want{{core.EventPut, b.ID, 12}}, 12, nil},
		{"CompactionEndsTheWatch", 10, clientv3.WatchResponse{CompactRevision: 30, Canceled: true}, nil, 10, core.ErrCompacted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &cursor{prefix: testPrefix, last: tc.last, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			evs, next, err := c.step(tc.resp)
			if tc.error != nil {
				require.ErrorIs(t, err, tc.error)
				assert.False(t, retryable(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.next, next)
			require.Len(t, evs, len(tc.want))
			for i, w := range tc.want {
				assert.Equal(t, w.typ, evs[i].Type, "event %d", i)
				assert.Equal(t, w.id, evs[i].Member.ID, "event %d", i)
				assert.Equal(t, w.rev, evs[i].Revision, "event %d", i)
				assert.Equal(t, w.rev, evs[i].Member.Revision, "event %d", i)
			}
		})
	}
}

func TestRetryableErrors(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		retry bool
	}{
		{"NoLeaderResumes", rpctypes.ErrNoLeader, true},
		{"UnavailableResumes", status.Error(codes.Unavailable, "connection refused"), true},
		{"CompactionStops", core.ErrCompacted, false},
		{"PermissionDeniedStops", rpctypes.ErrPermissionDenied, false},
		{"AuthFailureStops", rpctypes.ErrAuthFailed, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { assert.Equal(t, tc.retry, retryable(tc.err)) })
	}
}
