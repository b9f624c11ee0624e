package admin

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/snowmerak/clustering/core"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type fakeSource struct{ reloadErr error }

func (f fakeSource) Reload(context.Context) (Reload, error) {
	return Reload{Roots: 1, RevocationLists: 1, Revoked: 2, ClosedSessions: 1, Evicted: 1}, f.reloadErr
}

func (fakeSource) Members() []Member {
	return []Member{{ID: "aa", Self: true, State: "alive", Zone: "z1", Weight: 1}, {ID: "bb", State: "dead", RTT: Duration(1500 * time.Microsecond)}}
}

func (fakeSource) Status() Status {
	return Status{ID: "aa", Members: map[string]int{"alive": 1, "dead": 1}, Uptime: Duration(time.Minute),
		Placement: Placement{Version: 3, Replicas: 2, Partitions: 4, Owners: []Ownership{{ID: "aa", Partitions: 4, Share: 1}}}}
}

func socketPath(t *testing.T) string {
	// Unix socket paths are short (108 bytes); t.TempDir can be long.
	dir, err := os.MkdirTemp("", "adm")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "clusterd.sock")
}

func listen(t *testing.T, path string) *Server {
	t.Helper()
	s, err := Listen(path, fakeSource{}, quiet)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestQueryAnswersCommands(t *testing.T) {
	path := socketPath(t)
	listen(t, path)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "only the node's user may connect")
	assert.Equal(t, os.ModeSocket, fi.Mode().Type())

	resp, err := Query(ctxT(t), path, CommandMembers)
	require.NoError(t, err)
	assert.Equal(t, fakeSource{}.Members(), resp.Members)
	resp, err = Query(ctxT(t), path, CommandStatus)
	require.NoError(t, err)
	require.NotNil(t, resp.Status)
	assert.Equal(t, fakeSource{}.Status(), *resp.Status)

	resp, err = Query(ctxT(t), path, CommandReload)
	require.NoError(t, err)
	require.NotNil(t, resp.Reload)
	assert.Equal(t, Reload{Roots: 1, RevocationLists: 1, Revoked: 2, ClosedSessions: 1, Evicted: 1}, *resp.Reload)

	_, err = Query(ctxT(t), path, "shutdown")
	require.ErrorIs(t, err, ErrServer)
	assert.Contains(t, err.Error(), `unknown command "shutdown"`)
}

// A reload that partly failed answers what it did and the failure.
func TestReloadFailureCarriesTheResult(t *testing.T) {
	path := socketPath(t)
	s, err := Listen(path, fakeSource{reloadErr: errors.New("revocation list x.crl: not PEM")}, quiet)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	resp, err := Query(ctxT(t), path, CommandReload)
	require.ErrorIs(t, err, ErrServer)
	assert.ErrorContains(t, err, "x.crl: not PEM")
	require.NotNil(t, resp)
	require.NotNil(t, resp.Reload)
	assert.Equal(t, 1, resp.Reload.Evicted)
}

func TestServerRefusesBadRequests(t *testing.T) {
	path := socketPath(t)
	listen(t, path)
	for _, tc := range []struct {
		rule, send, want string
	}{
		{"requests are JSON", "members\n", "invalid character"},
		{"unknown fields are refused", `{"command":"members","all":true}` + "\n", "unknown field"},
		{"one request a connection", `{"command":"members"} {"command":"status"}` + "\n", "trailing data"},
		{"requests are bounded", `{"command":"` + strings.Repeat("x", MaxRequestSize) + "\"}\n", "request exceeds 4096 bytes"},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			c, err := net.Dial("unix", path)
			require.NoError(t, err)
			defer c.Close()
			_, err = io.WriteString(c, tc.send)
			require.NoError(t, err)
			out, err := io.ReadAll(c)
			require.NoError(t, err)
			assert.Contains(t, string(out), `"error"`)
			assert.Contains(t, string(out), tc.want)
		})
	}
}

func TestListenHandlesTheSocketPath(t *testing.T) {
	t.Run("a stale socket of a dead process is replaced", func(t *testing.T) {
		path := socketPath(t)
		ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
		require.NoError(t, err)
		ln.SetUnlinkOnClose(false)
		ln.Close()
		listen(t, path)
		_, err = Query(ctxT(t), path, CommandStatus)
		require.NoError(t, err)
	})
	t.Run("a live socket is not taken over", func(t *testing.T) {
		path := socketPath(t)
		listen(t, path)
		_, err := Listen(path, fakeSource{}, quiet)
		require.ErrorContains(t, err, "in use by a running node")
	})
	t.Run("a file that is not a socket is left alone", func(t *testing.T) {
		path := socketPath(t)
		require.NoError(t, os.WriteFile(path, []byte("data"), 0o600))
		_, err := Listen(path, fakeSource{}, quiet)
		require.ErrorContains(t, err, "is not a socket")
	})
	t.Run("the longest path CheckPath takes binds; one byte more is refused", func(t *testing.T) {
		dir := filepath.Dir(socketPath(t))
		long := filepath.Join(dir, "s")
		for len(tempName(long, widestPID)) < maxSocketPath {
			long += "s"
		}
		require.Len(t, tempName(long, widestPID), maxSocketPath)
		require.NoError(t, CheckPath(long))
		listen(t, long)
		_, err := Query(ctxT(t), long, CommandStatus)
		require.NoError(t, err)
		require.ErrorContains(t, CheckPath(long+"s"), "104 bytes with the temporary suffix, a unix socket path allows 103")
	})
	t.Run("Close removes the socket", func(t *testing.T) {
		path := socketPath(t)
		s, err := Listen(path, fakeSource{}, quiet)
		require.NoError(t, err)
		require.NoError(t, s.Close())
		_, err = os.Stat(path)
		require.ErrorIs(t, err, os.ErrNotExist)
		_, err = Query(ctxT(t), path, CommandStatus)
		require.ErrorContains(t, err, "is clusterd running?")
	})
}

func TestDurationJSON(t *testing.T) {
	d := Duration(1500 * time.Microsecond)
	b, err := d.MarshalJSON()
	require.NoError(t, err)
	assert.Equal(t, `"1.5ms"`, string(b))
	var back Duration
	require.NoError(t, back.UnmarshalJSON(b))
	assert.Equal(t, d, back)
	require.Error(t, back.UnmarshalJSON([]byte(`"soon"`)))
}

func FuzzDecodeRequest(f *testing.F) {
	f.Add([]byte(`{"command":"members"}`))
	f.Add([]byte(`{"command":"status"}` + "\n"))
	f.Add([]byte(`{"command":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRequest(b)
		if err != nil {
			require.ErrorIs(t, err, core.ErrInvalidInput)
			return
		}
		if r.Command != CommandMembers && r.Command != CommandStatus {
			t.Fatalf("accepted command %q", r.Command)
		}
	})
}
