package etcdrepo_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/snowmerak/clustering/adapters/etcdrepo"
	"github.com/snowmerak/clustering/adapters/etcdrepo/internal/etcdtest"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest/repotest"
)

// ttl is the shortest lease etcd grants.
const ttl = time.Second

// goneWithin waits until id is absent from r, failing after d.
func goneWithin(t *testing.T, r *etcdrepo.Repo, id core.NodeID, d time.Duration) {
	t.Helper()
	require.Eventually(t, func() bool {
		_, err := r.Get(ctxT(t), id)
		return err != nil && assert.ErrorIs(t, err, core.ErrNotFound)
	}, d, 50*time.Millisecond)
}

func TestRegistrationLivesWhileKeptAlive(t *testing.T) {
	s := etcdtest.New(t, etcdtest.Options{})
	r := openRepo(t, s, "/reg/")
	m := repotest.NewMember(t, 1)
	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	reg, err := r.Register(ctx, m, ttl)
	require.NoError(t, err)
	time.Sleep(3 * ttl) // keep-alives must renew the lease several times
	got, err := r.Get(ctxT(t), m.ID)
	require.NoError(t, err)
	assert.Equal(t, reg.Revision(), got.Revision)
	assert.Nil(t, reg.Err())
	select {
	case <-reg.Done():
		t.Fatal("registration ended while its context lives")
	default:
	}
}

func TestRegisteredMemberDisappearsWhenKeepAlivesStop(t *testing.T) {
	s := etcdtest.New(t, etcdtest.Options{})
	observer := openRepo(t, s, "/reg/")
	tests := []struct {
		name string
		// stop ends the keep-alives and returns the error Err must report
		// (nil: no error).
		stop func(t *testing.T, r *etcdrepo.Repo, reg *etcdrepo.Registration, cancel context.CancelFunc) error
		// within bounds the record's disappearance.
		within time.Duration
	}{
		{"ContextEndsThenTTLRunsOut", func(_ *testing.T, _ *etcdrepo.Repo, _ *etcdrepo.Registration, cancel context.CancelFunc) error {
			cancel()
			return context.Canceled
		}, 5 * ttl},
		{"RepositoryClosesThenTTLRunsOut", func(t *testing.T, r *etcdrepo.Repo, _ *etcdrepo.Registration, _ context.CancelFunc) error {
			require.NoError(t, r.Close())
			return core.ErrClosed
		}, 5 * ttl},
		{"DeregisterRemovesAtOnce", func(t *testing.T, _ *etcdrepo.Repo, reg *etcdrepo.Registration, _ context.CancelFunc) error {
			require.NoError(t, reg.Deregister(ctxT(t)))
			require.NoError(t, reg.Deregister(ctxT(t)), "deregistering twice is fine")
			return nil
		}, 200 * time.Millisecond},
		{"LeaseRevokedElsewhereIsLost", func(t *testing.T, _ *etcdrepo.Repo, reg *etcdrepo.Registration, _ context.CancelFunc) error {
			_, err := rawClient(t, s).Revoke(ctxT(t), clientv3.LeaseID(reg.LeaseID()))
			require.NoError(t, err)
			return etcdrepo.ErrLeaseLost
		}, 200 * time.Millisecond},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := etcdrepo.Open(ctxT(t), testConfig(s, "/reg/"))
			require.NoError(t, err)
			defer r.Close()
			m := repotest.NewMember(t, i)
			_, rev, err := observer.List(ctxT(t))
			require.NoError(t, err)
			ch, err := observer.Watch(ctxT(t), rev)
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(ctxT(t))
			defer cancel()
			reg, err := r.Register(ctx, m, ttl)
			require.NoError(t, err)
			put := next(t, ch)
			require.Equal(t, core.EventPut, put.Type)
			require.Equal(t, reg.Revision(), put.Revision)

			want := tc.stop(t, r, reg, cancel)
			select {
			case <-reg.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("Done not closed after keep-alives stopped")
			}
			if want == nil {
				assert.NoError(t, reg.Err())
			} else {
				assert.ErrorIs(t, reg.Err(), want)
			}
			start := time.Now()
			goneWithin(t, observer, m.ID, tc.within)
			gone := next(t, ch)
			assert.Equal(t, core.EventDelete, gone.Type, "watchers see the member leave")
			assert.Equal(t, m.ID, gone.Member.ID)
			t.Logf("record gone %v after keep-alives stopped", time.Since(start).Round(time.Millisecond))
		})
	}
}

func TestPutKeepsTheRegistrationLease(t *testing.T) {
	s := etcdtest.New(t, etcdtest.Options{})
	r := openRepo(t, s, "/reg/")
	m := repotest.NewMember(t, 1)
	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	reg, err := r.Register(ctx, m, ttl)
	require.NoError(t, err)
	updated := m.Clone()
	updated.Weight = 9
	rev, err := r.Put(ctxT(t), updated, reg.Revision())
	require.NoError(t, err)
	updated.Weight = 10
	_, err = r.Put(ctxT(t), updated, core.AnyRevision)
	require.NoError(t, err)
	require.Greater(t, rev, reg.Revision())

	cancel() // the node stops: an operator's update must not make it immortal
	goneWithin(t, r, m.ID, 5*ttl)
}

func TestRegisterRejectsBadInput(t *testing.T) {
	s := etcdtest.New(t, etcdtest.Options{})
	r := openRepo(t, s, "/reg/")
	bad := repotest.NewMember(t, 1)
	bad.Weight = -1
	tests := []struct {
		name   string
		member core.Member
		ttl    time.Duration
	}{
		{"TTLBelowOneSecond", repotest.NewMember(t, 1), 500 * time.Millisecond},
		{"InvalidMember", bad, ttl},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.Register(ctxT(t), tc.member, tc.ttl)
			require.ErrorIs(t, err, core.ErrInvalidInput)
		})
	}
	ms, _, err := r.List(ctxT(t))
	require.NoError(t, err)
	assert.Empty(t, ms)
}
