package membership_test

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest/repotest"
	"github.com/snowmerak/clustering/membership"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func openStore(t *testing.T, repo core.MemberRepo) *membership.Store {
	t.Helper()
	s, err := membership.Open(context.Background(), repo, membership.Config{
		Placement:     membership.PlacementConfig{Partitions: 1 << 12},
		RetryInterval: 10 * time.Millisecond,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func newRepo(t *testing.T) *repotest.Repo {
	r := repotest.NewRepo(1024)
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func TestNewMemberFromCertificate(t *testing.T) {
	id := repotest.NewIdentity(t, 1)
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: id.Certificate})
	tests := []struct {
		name   string
		cert   []byte
		weight int
		want   int
		err    error
	}{
		{"DERKeepsWeight", id.Certificate, 3, 3, nil},
		{"PEMAccepted", pemCert, 2, 2, nil},
		{"ZeroWeightIsOne", id.Certificate, 0, 1, nil},
		{"NegativeWeightIsOne", id.Certificate, -5, 1, nil},
		{"GarbageRefused", []byte("nope"), 1, 0, core.ErrInvalidInput},
		{"WrongPEMTypeRefused", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: id.Certificate}), 1, 0, core.ErrInvalidInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := membership.NewMember(tc.cert, "eu", "eu-1", "r1", repotest.NewMember(t, 1).IP, "n1.test", tc.weight)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, id.ID, m.ID, "ID is the NodeID of the certificate's key")
			require.Equal(t, id.Certificate, m.Certificate, "stored as DER")
			require.Equal(t, tc.want, m.Weight)
		})
	}
}

func TestStoreSeedAPI(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, newRepo(t))
	ms := repotest.NewMembers(t, 12) // regions r0/r1, zones z0..z2, racks k0..k3
	for _, m := range ms {
		require.NoError(t, s.Add(ctx, m))
	}
	require.Equal(t, 12, s.Len())

	list := s.List()
	for i := 1; i < len(list); i++ {
		a, b := list[i-1], list[i]
		require.Negative(t, slices.Compare([]string{a.Region, a.Zone, a.Rack, string(a.ID[:])}, []string{b.Region, b.Zone, b.Rack, string(b.ID[:])}),
			"List sorted by Region > Zone > Rack > ID at %d", i)
	}
	count := func(pred func(m core.Member) bool) int {
		n := 0
		for _, m := range ms {
			if pred(m) {
				n++
			}
		}
		return n
	}
	tests := []struct {
		name string
		got  []core.Member
		pred func(m core.Member) bool
	}{
		{"FindByRegion", s.FindByRegion("r1"), func(m core.Member) bool { return m.Region == "r1" }},
		{"FindByZone", s.FindByZone("r0", "z2"), func(m core.Member) bool { return m.Region == "r0" && m.Zone == "z2" }},
		{"FindByRack", s.FindByRack("r1", "z1", "k3"), func(m core.Member) bool { return m.Region == "r1" && m.Zone == "z1" && m.Rack == "k3" }},
		{"FindByMissingZone", s.FindByZone("r0", "nowhere"), func(core.Member) bool { return false }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Len(t, tc.got, count(tc.pred))
			for _, m := range tc.got {
				require.True(t, tc.pred(m))
			}
		})
	}

	got, err := s.Get(ms[3].ID)
	require.NoError(t, err)
	require.Empty(t, repotest.Equal(got, ms[3]))
	got.Labels["index"] = "scribbled"
	again, _ := s.Get(ms[3].ID)
	require.Equal(t, "3", again.Labels["index"], "Get returns a copy")

	renewed := repotest.RenewIdentity(t, 3).Certificate
	byCert, err := s.GetByCertificate(renewed)
	require.NoError(t, err, "a renewed certificate finds the same member")
	require.Equal(t, ms[3].ID, byCert.ID)

	require.NoError(t, s.Remove(ctx, ms[3].ID))
	_, err = s.Get(ms[3].ID)
	require.ErrorIs(t, err, core.ErrNotFound)
	require.ErrorIs(t, s.Remove(ctx, ms[3].ID), core.ErrNotFound)
	_, err = s.GetByCertificate([]byte("junk"))
	require.ErrorIs(t, err, core.ErrInvalidInput)
}

func TestStoreAddRefusesMismatchedCertificate(t *testing.T) {
	s := openStore(t, newRepo(t))
	m := repotest.NewMember(t, 1)
	m.ID = repotest.NewMember(t, 2).ID
	require.ErrorIs(t, s.Add(context.Background(), m), core.ErrInvalidInput)
	require.ErrorIs(t, s.Add(context.Background(), core.Member{}), core.ErrInvalidInput)
}

func TestStoresOnOneRepoSeeEachOther(t *testing.T) {
	ctx := context.Background()
	repo := newRepo(t)
	a, b := openStore(t, repo), openStore(t, repo)
	m := repotest.NewMember(t, 1)
	require.NoError(t, a.Add(ctx, m))
	wctx, cancel := context.WithTimeout(ctx, repotest.Timeout)
	defer cancel()
	require.NoError(t, b.WaitRevision(wctx, a.Revision()))
	_, err := b.Get(m.ID)
	require.NoError(t, err)
	require.NoError(t, b.Remove(ctx, m.ID))
	require.NoError(t, a.WaitRevision(wctx, b.Revision()))
	_, err = a.Get(m.ID)
	require.ErrorIs(t, err, core.ErrNotFound)
	// The placement follows: b's latest placement places on no one.
	p, err := b.WaitPlacement(wctx, b.Revision())
	require.NoError(t, err)
	require.Zero(t, p.Len())
}

// faultyRepo ends the first watch with err once release is closed.
type faultyRepo struct {
	core.MemberRepo
	err     error
	release chan struct{}
	once    sync.Once
}

func (f *faultyRepo) Watch(ctx context.Context, after int64) (<-chan core.MemberEvent, error) {
	first := false
	f.once.Do(func() { first = true })
	if !first {
		return f.MemberRepo.Watch(ctx, after)
	}
	ch := make(chan core.MemberEvent, 1)
	go func() {
		defer close(ch)
		<-f.release
		ch <- core.MemberEvent{Err: f.err}
	}()
	return ch, nil
}

func TestStoreRecoversWhenItsWatchEnds(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		retry time.Duration
	}{
		// Compaction re-lists at once: a retry interval of an hour would hang.
		{"CompactionRelistsAtOnce", fmt.Errorf("gone: %w", core.ErrCompacted), time.Hour},
		{"ErrorResumesAfterPause", errors.New("backend hiccup"), 10 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			repo := &faultyRepo{MemberRepo: newRepo(t), err: tc.err, release: make(chan struct{})}
			s, err := membership.Open(ctx, repo, membership.Config{
				Placement:     membership.PlacementConfig{Partitions: 1 << 12},
				RetryInterval: tc.retry,
			})
			require.NoError(t, err)
			defer s.Close()
			var last int64
			for _, m := range repotest.NewMembers(t, 5) {
				last, err = repo.Put(ctx, m, 0)
				require.NoError(t, err)
			}
			require.Zero(t, s.Len(), "the first watch delivers nothing")
			close(repo.release)
			wctx, cancel := context.WithTimeout(ctx, repotest.Timeout)
			defer cancel()
			require.NoError(t, s.WaitRevision(wctx, last))
			require.Equal(t, 5, s.Len())
		})
	}
}

func TestReadersDoNotBlockOnWriters(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, newRepo(t))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				list := s.List()
				for i := 1; i < len(list); i++ {
					assert.NotEqual(t, list[i-1].ID, list[i].ID)
				}
				p, _ := s.Placement()
				_ = p.Owner([]byte("k"))
			}
		}()
	}
	for _, m := range repotest.NewMembers(t, 30) {
		require.NoError(t, s.Add(ctx, m))
	}
	close(stop)
	wg.Wait()
	require.Equal(t, 30, s.Len())
}
