package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/adapters/pqc"
	"github.com/snowmerak/clustering/cmd/clusterd/internal/devpki"
	"github.com/snowmerak/clustering/cmd/internal/clitest"
)

// The end-to-end tests drive the real binary, built once on first use.
var clusterdBin = clitest.New("clusterd", ".")

func TestMain(m *testing.M) { os.Exit(clusterdBin.Main(m)) }

// shortDir is a temporary directory with a short path: unix socket paths
// are limited to about 100 bytes.
func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "cd")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// testPKI makes an ML-DSA-65 PKI with the named nodes in dir.
func testPKI(t *testing.T, dir string, names ...string) (*devpki.PKI, map[string]devpki.Node) {
	t.Helper()
	p, err := devpki.New(dir, "clusterd test", pqc.MLDSA65, time.Now())
	require.NoError(t, err)
	nodes := map[string]devpki.Node{}
	for _, name := range names {
		n, err := p.Node(name)
		require.NoError(t, err)
		nodes[name] = n
	}
	return p, nodes
}

// runInProcess runs the command line in this process.
func runInProcess(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code = tool().Run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		rule string
		args []string
		code int
		want string
	}{
		{"no command is a usage error", nil, 2, "Usage: clusterd <command>"},
		{"-h lists the commands", []string{"-h"}, 0, "members"},
		{"an unknown command is a usage error", []string{"start"}, 2, `unknown command "start"`},
		{"each command has -h", []string{"run", "-h"}, 0, "Usage: clusterd run -config FILE"},
		{"dev explains itself", []string{"dev", "-h"}, 0, "throwaway"},
		{"members takes a socket", []string{"members", "-h"}, 0, "-socket"},
		{"status takes a socket", []string{"status", "-h"}, 0, "-socket"},
		{"unknown flags are usage errors", []string{"run", "-cfg", "x"}, 2, "flag provided but not defined"},
		{"positional arguments are refused", []string{"members", "extra"}, 2, `unexpected argument "extra"`},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			code, _, stderr := runInProcess(tc.args...)
			assert.Equal(t, tc.code, code)
			assert.Contains(t, stderr, tc.want)
		})
	}
}

// Bad configurations stop clusterd run with one clear line and status 1.
func TestRunRefusesBadConfig(t *testing.T) {
	dir := shortDir(t)
	p, nodes := testPKI(t, dir, "a", "b")
	foreign, _ := testPKI(t, t.TempDir())
	base := func(extra string) string {
		if !strings.Contains(extra, "repo:") {
			extra += "repo: {kind: memory}\n"
		}
		return fmt.Sprintf("identity: {cert: %q, key: %q}\ntrust: {roots: %q}\nlisten: 127.0.0.1:0\nadmin: {socket: %q}\n%s",
			nodes["a"].CertFile, nodes["a"].KeyFile, p.RootFile, filepath.Join(dir, "a.sock"), extra)
	}
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
		return path
	}
	for _, tc := range []struct {
		rule, config, want string
	}{
		{"an unknown field", base("listen_addr: x\n"), "field listen_addr not found"},
		{"a missing configuration file", "", "no such file or directory"},
		{"a missing certificate file", strings.Replace(base(""), nodes["a"].CertFile, filepath.Join(dir, "none.crt"), 1), "none.crt: no such file"},
		{"a key that is not the certificate's", strings.Replace(base(""), nodes["a"].KeyFile, nodes["b"].KeyFile, 1), "does not belong to certificate"},
		{"a certificate the roots do not vouch for", strings.Replace(base(""), p.RootFile, foreign.RootFile, 1), "own certificate chain does not verify"},
		{"bad seed syntax", base("seeds: [node-b]\n"), "seeds[0]"},
		{"unreachable seeds", base("seeds: [\"127.0.0.1:9\"]\njoin_timeout: 1s\n"), "no seed answered within 1s"},
		{"an unreachable etcd", base("repo: {kind: etcd, etcd: {endpoints: [\"http://127.0.0.1:9\"], dial_timeout: 500ms}}\n"), "registry: etcdrepo"},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			path := filepath.Join(dir, "absent.yaml")
			if tc.config != "" {
				path = write("node.yaml", tc.config)
			}
			code, _, stderr := runInProcess("run", "-config", path)
			assert.Equal(t, 1, code)
			// Logs written before the failure may precede it; the error
			// itself is the last line, and the only one of its kind.
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			last := lines[len(lines)-1]
			assert.True(t, strings.HasPrefix(last, "clusterd run: "), stderr)
			assert.Equal(t, 1, strings.Count(stderr, "clusterd run: "), stderr)
			assert.Contains(t, last, tc.want)
			t.Log(last)
		})
	}
}

func TestQueryWithoutANode(t *testing.T) {
	code, _, stderr := runInProcess("members", "-socket", filepath.Join(shortDir(t), "none.sock"))
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "is clusterd running?")
}
