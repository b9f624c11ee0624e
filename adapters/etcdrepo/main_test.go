package etcdrepo_test

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/snowmerak/clustering/adapters/etcdrepo"
	"github.com/snowmerak/clustering/adapters/etcdrepo/internal/etcdtest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// quiet discards logs; tests that check logging use their own handler.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// testConfig returns a Config for s under prefix with short timeouts.
func testConfig(s *etcdtest.Server, prefix string) etcdrepo.Config {
	return etcdrepo.Config{
		Endpoints:   []string{s.Endpoint()},
		Prefix:      prefix,
		DialTimeout: 5 * time.Second,
		Logger:      quiet,
	}
}

// openRepo opens a repository on s under prefix, closed when the test ends.
func openRepo(t testing.TB, s *etcdtest.Server, prefix string) *etcdrepo.Repo {
	t.Helper()
	return openConfig(t, testConfig(s, prefix))
}

// openConfig opens a repository with cfg, closed when the test ends.
func openConfig(t testing.TB, cfg etcdrepo.Config) *etcdrepo.Repo {
	t.Helper()
	r, err := etcdrepo.Open(ctxT(t), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, r.Close()) })
	return r
}
