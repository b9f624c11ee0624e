package etcdrepo_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/adapters/etcdrepo"
	"github.com/snowmerak/clustering/adapters/etcdrepo/internal/etcdtest"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest/repotest"
)

func TestOpenFailsFastWhenEtcdIsDown(t *testing.T) {
	port, err := etcdtest.FreePort()
	require.NoError(t, err)
	start := time.Now()
	_, err = etcdrepo.Open(ctxT(t), etcdrepo.Config{
		Endpoints:   []string{fmt.Sprintf("http://127.0.0.1:%d", port)},
		DialTimeout: 300 * time.Millisecond,
		Logger:      quiet,
	})
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "not reachable within 300ms")
	assert.Contains(t, err.Error(), fmt.Sprint(port), "the error names the endpoint")
	assert.Contains(t, err.Error(), "connection refused", "and why it failed")
	assert.Less(t, time.Since(start), 3*time.Second)
}

// putAll creates ms with 8 writers at once.
func putAll(t testing.TB, r core.MemberRepo, ms []core.Member) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(ms))
	next := make(chan core.Member)
	for range 8 {
		wg.Go(func() {
			for m := range next {
				if _, err := r.Put(context.Background(), m, 0); err != nil {
					errs <- err
				}
			}
		})
	}
	for _, m := range ms {
		next <- m
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func TestOpenRejectsBadConfig(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("not a certificate"), 0o600))
	ep := []string{"http://127.0.0.1:1"}
	tests := []struct {
		name string
		cfg  etcdrepo.Config
		want error
	}{
		{"NoEndpoints", etcdrepo.Config{}, core.ErrInvalidInput},
		{"EmptyEndpoint", etcdrepo.Config{Endpoints: []string{" "}}, core.ErrInvalidInput},
		{"NegativeTimeout", etcdrepo.Config{Endpoints: ep, DialTimeout: -1}, core.ErrInvalidInput},
		{"UsernameWithoutPassword", etcdrepo.Config{Endpoints: ep, Username: "root"}, core.ErrInvalidInput},
		{"TLSAndTLSFiles", etcdrepo.Config{Endpoints: ep, TLS: &tls.Config{}, TLSFiles: etcdrepo.TLSFiles{CAFile: notPEM}}, core.ErrInvalidInput},
		{"CertWithoutKey", etcdrepo.Config{Endpoints: ep, TLSFiles: etcdrepo.TLSFiles{CertFile: notPEM}}, core.ErrInvalidInput},
		{"CAFileWithoutPEM", etcdrepo.Config{Endpoints: ep, TLSFiles: etcdrepo.TLSFiles{CAFile: notPEM}}, core.ErrInvalidInput},
		{"CAFileMissing", etcdrepo.Config{Endpoints: ep, TLSFiles: etcdrepo.TLSFiles{CAFile: filepath.Join(dir, "none.pem")}}, os.ErrNotExist},
		{"ClientKeyPairUnreadable", etcdrepo.Config{Endpoints: ep, TLSFiles: etcdrepo.TLSFiles{CertFile: notPEM, KeyFile: notPEM}}, core.ErrInvalidInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Logger = quiet
			_, err := etcdrepo.Open(ctxT(t), tc.cfg)
			require.ErrorIs(t, err, tc.want)
		})
	}
}

func TestPrefixesAreIsolated(t *testing.T) {
	s := etcdtest.New(t, etcdtest.Options{})
	a, ab := openRepo(t, s, "/fleet/a"), openRepo(t, s, "/fleet/ab")
	assert.Equal(t, "/fleet/a/", a.Prefix(), "a / is appended so /a does not cover /ab")
	_, rev, err := a.List(ctxT(t))
	require.NoError(t, err)
	ch, err := a.Watch(ctxT(t), rev)
	require.NoError(t, err)

	_, err = ab.Put(ctxT(t), repotest.NewMember(t, 1), 0)
	require.NoError(t, err)
	mine := repotest.NewMember(t, 2)
	mineRev, err := a.Put(ctxT(t), mine, 0)
	require.NoError(t, err)

	ms, _, err := a.List(ctxT(t))
	require.NoError(t, err)
	require.Len(t, ms, 1)
	assert.Equal(t, mine.ID, ms[0].ID)
	_, err = a.Get(ctxT(t), repotest.NewMember(t, 1).ID)
	require.ErrorIs(t, err, core.ErrNotFound)
	ev := <-ch
	assert.Equal(t, mine.ID, ev.Member.ID, "the other prefix's change is not watched")
	assert.Equal(t, mineRev, ev.Revision)
}

func TestPutRejectsInvalidInputWithoutWriting(t *testing.T) {
	s := etcdtest.New(t, etcdtest.Options{})
	r := openRepo(t, s, "/invalid/")
	good := repotest.NewMember(t, 1)
	tests := []struct {
		name   string
		member core.Member
		expect int64
	}{
		{"ExpectBelowAnyRevision", good, -2},
		{"IDNotTheCertificatesNodeID", func() core.Member { m := good.Clone(); m.ID = repotest.NewIdentity(t, 9).ID; return m }(), 0},
		{"NegativeWeight", func() core.Member { m := good.Clone(); m.Weight = -3; return m }(), 0},
		{"ZeroID", core.Member{}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.Put(ctxT(t), tc.member, tc.expect)
			require.ErrorIs(t, err, core.ErrInvalidInput)
		})
	}
	_, err := r.Delete(ctxT(t), good.ID, -7)
	require.ErrorIs(t, err, core.ErrInvalidInput)
	_, err = r.Watch(ctxT(t), -1)
	require.ErrorIs(t, err, core.ErrInvalidInput)
	ms, _, err := r.List(ctxT(t))
	require.NoError(t, err)
	assert.Empty(t, ms)
}

// logBuffer is a slog handler target safe for concurrent writes.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestUndecodableRecordsAreReportedAndSkipped(t *testing.T) {
	s := etcdtest.New(t, etcdtest.Options{})
	var logs logBuffer
	cfg := testConfig(s, "/bad/")
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	r := openConfig(t, cfg)
	raw := rawClient(t, s)

	good, bad := repotest.NewMember(t, 1), repotest.NewMember(t, 2)
	_, err := r.Put(ctxT(t), good, 0)
	require.NoError(t, err)
	_, err = r.Put(ctxT(t), bad, 0)
	require.NoError(t, err)
	_, rev, err := r.List(ctxT(t))
	require.NoError(t, err)
	ch, err := r.Watch(ctxT(t), rev)
	require.NoError(t, err)

	garbage, err := raw.Put(ctxT(t), "/bad/"+bad.ID.String(), `{"v":1,"id":"not hex"}`)
	require.NoError(t, err)
	_, err = raw.Put(ctxT(t), "/bad/not-a-member", "x")
	require.NoError(t, err)
	_, err = raw.Put(ctxT(t), "/bad/"+strings.ToUpper(good.ID.String()), "x")
	require.NoError(t, err)
	last := repotest.NewMember(t, 3)
	lastRev, err := r.Put(ctxT(t), last, 0)
	require.NoError(t, err)

	ms, _, err := r.List(ctxT(t))
	require.NoError(t, err)
	ids := []core.NodeID{}
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	assert.ElementsMatch(t, []core.NodeID{good.ID, last.ID}, ids, "List leaves undecodable records out")
	_, err = r.Get(ctxT(t), bad.ID)
	require.ErrorIs(t, err, core.ErrInvalidInput)

	ev := <-ch
	assert.Equal(t, core.EventDelete, ev.Type, "an undecodable record is watched as a delete")
	assert.Equal(t, bad.ID, ev.Member.ID)
	assert.Equal(t, garbage.Header.Revision, ev.Revision)
	ev = <-ch
	assert.Equal(t, core.EventPut, ev.Type, "keys that name no member are skipped")
	assert.Equal(t, last.ID, ev.Member.ID)
	assert.Equal(t, lastRev, ev.Revision)
	for _, key := range []string{bad.ID.String(), "not-a-member", strings.ToUpper(good.ID.String())} {
		assert.Contains(t, logs.String(), key, "the skipped record is logged")
	}
}

func TestClosedRepoFailsWithErrClosed(t *testing.T) {
	s := etcdtest.New(t, etcdtest.Options{})
	r, err := etcdrepo.Open(ctxT(t), testConfig(s, "/closed/"))
	require.NoError(t, err)
	m := repotest.NewMember(t, 1)
	rev, err := r.Put(ctxT(t), m, 0)
	require.NoError(t, err)
	ch, err := r.Watch(ctxT(t), rev)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	_, open := <-ch
	assert.False(t, open, "Close ends watches")
	require.NoError(t, r.Close(), "closing twice is fine")

	_, _, err = r.List(ctxT(t))
	assert.ErrorIs(t, err, core.ErrClosed)
	_, err = r.Get(ctxT(t), m.ID)
	assert.ErrorIs(t, err, core.ErrClosed)
	_, err = r.Put(ctxT(t), m, rev)
	assert.ErrorIs(t, err, core.ErrClosed)
	_, err = r.Delete(ctxT(t), m.ID, rev)
	assert.ErrorIs(t, err, core.ErrClosed)
	_, err = r.Watch(ctxT(t), rev)
	assert.ErrorIs(t, err, core.ErrClosed)
	_, err = r.Register(ctxT(t), m, time.Second)
	assert.ErrorIs(t, err, core.ErrClosed)
}

func TestListIsOneSnapshotAcrossPages(t *testing.T) {
	const members = 300 // more than one page of 256
	s := etcdtest.New(t, etcdtest.Options{})
	r := openRepo(t, s, "/pages/")
	ms := repotest.NewMembers(t, members)
	putAll(t, r, ms)

	// A writer keeps updating members on both pages while List runs: a
	// snapshot read at one revision never holds a member changed after it.
	ctx, stop := context.WithCancel(ctxT(t))
	writer := make(chan error, 1)
	go func() {
		defer close(writer)
		for i := 0; ctx.Err() == nil; i++ {
			m := ms[(i*97)%members]
			m.Weight = 1 + i%7
			if _, err := r.Put(ctx, m, core.AnyRevision); err != nil && ctx.Err() == nil {
				writer <- err
				return
			}
		}
	}()
	for range 20 {
		got, rev, err := r.List(ctxT(t))
		require.NoError(t, err)
		require.Len(t, got, members)
		for i, m := range got {
			require.LessOrEqual(t, m.Revision, rev, "member %d changed after the snapshot revision", i)
			if i > 0 {
				require.Negative(t, bytes.Compare(got[i-1].ID[:], m.ID[:]), "sorted by ID")
			}
		}
	}
	stop()
	require.NoError(t, <-writer)
}

func TestAuthenticatesWithUsernameAndPassword(t *testing.T) {
	s := etcdtest.New(t, etcdtest.Options{})
	raw := rawClient(t, s)
	ctx := ctxT(t)
	_, err := raw.RoleAdd(ctx, "root")
	require.NoError(t, err)
	_, err = raw.UserAdd(ctx, "root", "root-secret")
	require.NoError(t, err)
	_, err = raw.UserGrantRole(ctx, "root", "root")
	require.NoError(t, err)
	_, err = raw.AuthEnable(ctx)
	require.NoError(t, err)

	tests := []struct {
		name     string
		user, pw string
		ok       bool
		reason   string
	}{
		{"RightPassword", "root", "root-secret", true, ""},
		{"WrongPassword", "root", "guess", false, "authentication failed"},
		{"NoCredentials", "", "", false, "user name is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(s, "/auth/")
			cfg.Username, cfg.Password, cfg.DialTimeout = tc.user, tc.pw, 10*time.Second
			r, err := etcdrepo.Open(ctxT(t), cfg)
			if !tc.ok {
				require.Error(t, err)
				assert.False(t, errors.Is(err, context.DeadlineExceeded), "a refusal is reported as such, not as a timeout: %v", err)
				assert.Contains(t, err.Error(), tc.reason)
				return
			}
			require.NoError(t, err)
			defer r.Close()
			_, err = r.Put(ctxT(t), repotest.NewMember(t, 1), core.AnyRevision)
			require.NoError(t, err)
		})
	}
}
