package registry

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/snowmerak/clustering/adapters/etcdrepo"
	"github.com/snowmerak/clustering/adapters/pqc"
	"github.com/snowmerak/clustering/cmd/clusterd/internal/config"
	"github.com/snowmerak/clustering/cmd/clusterd/internal/devpki"
	"github.com/snowmerak/clustering/core"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// members are records with real certificates (repositories check that a
// record's ID is its certificate's).
var members = func() []core.Member {
	dir, err := os.MkdirTemp("", "registry-test-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	p, err := devpki.New(dir, "registry", pqc.SignatureSchemes()[0], time.Now())
	if err != nil {
		panic(err)
	}
	var out []core.Member
	for i := range 8 {
		n, err := p.Node(fmt.Sprintf("node-%d", i))
		if err != nil {
			panic(err)
		}
		out = append(out, core.Member{ID: n.ID, Certificate: n.Chain[0].Raw, Zone: "z", Weight: 1})
	}
	return out
}()

func member(i int) core.Member { return members[i] }

func TestOpenKinds(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		rule string
		repo config.Repo
	}{
		{"memory keeps records in the process", config.Repo{Kind: config.RepoMemory}},
		{"csv keeps records in the file", config.Repo{Kind: config.RepoCSV, CSV: config.CSV{Path: filepath.Join(t.TempDir(), "m.csv")}}},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			r, err := Open(ctx, tc.repo, quiet)
			require.NoError(t, err)
			assert.Equal(t, tc.repo.Kind, r.Kind())
			require.NoError(t, r.Register(ctx, member(1)))
			require.NoError(t, r.Register(ctx, member(1)), "registering again replaces the record")
			got, err := r.Repo().Get(ctx, member(1).ID)
			require.NoError(t, err)
			assert.Equal(t, "z", got.Zone)
			require.NoError(t, r.Deregister(ctx))
			_, err = r.Repo().Get(ctx, member(1).ID)
			require.NoError(t, err, "a plain record outlives a leave")
			require.NoError(t, r.Close())
		})
	}
	_, err := Open(ctx, config.Repo{Kind: "redis"}, quiet)
	require.ErrorIs(t, err, core.ErrInvalidInput)
}

// A second node's registry sees the record through the shared file.
func TestCSVIsSharedThroughTheFile(t *testing.T) {
	ctx := context.Background()
	c := config.Repo{Kind: config.RepoCSV, CSV: config.CSV{Path: filepath.Join(t.TempDir(), "m.csv"), PollInterval: 10 * time.Millisecond}}
	a, err := Open(ctx, c, quiet)
	require.NoError(t, err)
	defer a.Close()
	b, err := Open(ctx, c, quiet)
	require.NoError(t, err)
	defer b.Close()
	require.NoError(t, a.Register(ctx, member(1)))
	require.NoError(t, b.Register(ctx, member(2)))
	ms, _, err := a.Repo().List(ctx)
	require.NoError(t, err)
	assert.Len(t, ms, 2)
}

// startEtcd runs a single-node etcd in the test process.
func startEtcd(t *testing.T) string {
	t.Helper()
	free := func() url.URL {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer l.Close()
		return url.URL{Scheme: "http", Host: l.Addr().String()}
	}
	cfg := embed.NewConfig()
	cfg.Name, cfg.Dir = "test", t.TempDir()
	client, peer := free(), free()
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.TickMs, cfg.ElectionMs = 10, 50
	cfg.UnsafeNoFsync = true
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	e, err := embed.StartEtcd(cfg)
	require.NoError(t, err)
	t.Cleanup(e.Close)
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(20 * time.Second):
		t.Fatal("etcd did not start")
	}
	return client.String()
}

// "repo: {kind: etcd}" opens etcdrepo; the node's record lives under a
// lease, gone at once on a graceful leave.
func TestEtcdRegistrationFollowsTheLease(t *testing.T) {
	endpoint := startEtcd(t)
	cfg, err := config.Parse([]byte(`
identity: {cert: c, key: k}
trust: {roots: r}
repo:
  kind: etcd
  etcd: {endpoints: ["`+endpoint+`"], prefix: /test/}
  ttl: 2s
`), t.TempDir())
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := Open(ctx, cfg.Repo, quiet)
	require.NoError(t, err)
	defer r.Close()
	assert.Equal(t, config.RepoEtcd, r.Kind())
	_, ok := r.Repo().(*etcdrepo.Repo)
	require.True(t, ok)

	require.NoError(t, r.Register(ctx, member(7)))
	require.Error(t, r.Register(ctx, member(7)), "one registration per node")
	got, err := r.Repo().Get(ctx, member(7).ID)
	require.NoError(t, err)
	assert.Equal(t, "z", got.Zone)
	time.Sleep(3 * time.Second) // longer than the TTL: keep-alives hold the record
	_, err = r.Repo().Get(ctx, member(7).ID)
	require.NoError(t, err)

	require.NoError(t, r.Deregister(ctx))
	_, err = r.Repo().Get(ctx, member(7).ID)
	require.ErrorIs(t, err, core.ErrNotFound)
}

func TestEtcdUnreachableIsAnError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = Open(ctx, config.Repo{Kind: config.RepoEtcd, Etcd: etcdrepo.Config{Endpoints: []string{"http://" + addr}, DialTimeout: 500 * time.Millisecond, Logger: quiet}}, quiet)
	require.Error(t, err)
}
