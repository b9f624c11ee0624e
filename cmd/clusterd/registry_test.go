package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/adapters/csvrepo"
	"github.com/snowmerak/clustering/core"
)

// An operator keeping an allow-list admits and evicts nodes with clusterd
// itself, from what cpki wrote.
func TestAdmitAndEvict(t *testing.T) {
	dir := shortDir(t)
	p, nodes := testPKI(t, dir, "a", "b")
	_, foreign := testPKI(t, t.TempDir(), "x")
	writeConfig := func(name, repo string) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(fmt.Sprintf(
			"identity: {cert: %q, key: %q}\ntrust: {roots: %q, allow_list: true}\nrepo: %s\nadmin: {socket: %q}\n",
			nodes["a"].CertFile, nodes["a"].KeyFile, p.RootFile, repo, filepath.Join(dir, "a.sock"))), 0o600))
		return path
	}
	cfg := writeConfig("a.yaml", "{kind: csv, csv: {path: members.csv}}")
	b := nodes["b"]
	stored := func() (core.Member, error) {
		repo, err := csvrepo.Open(filepath.Join(dir, "members.csv"))
		require.NoError(t, err)
		defer repo.Close()
		return repo.Get(context.Background(), b.ID)
	}
	run := func(wantCode int, wantOut string, args ...string) {
		t.Helper()
		code, stdout, stderr := runInProcess(args...)
		require.Equal(t, wantCode, code, stderr)
		assert.Contains(t, stdout+stderr, wantOut)
	}

	run(0, "Admitted "+b.ID.String(), "admit", "-config", cfg, "-cert", b.CertFile, "-zone", "z1", "-weight", "3", "-addr", "127.0.0.1:7000")
	m, err := stored()
	require.NoError(t, err)
	assert.Equal(t, "z1", m.Zone)
	assert.Equal(t, 3, m.Weight)
	assert.Equal(t, "127.0.0.1", m.IP.String())
	assert.Equal(t, uint16(7000), m.Port)

	run(1, "in the registry already (-replace replaces its record)", "admit", "-config", cfg, "-cert", b.CertFile)
	run(0, "Admitted", "admit", "-config", cfg, "-cert", b.CertFile, "-zone", "z2", "-replace")
	m, err = stored()
	require.NoError(t, err)
	assert.Equal(t, "z2", m.Zone)

	run(1, "the chain does not verify against the trust roots and revocation lists", "admit", "-config", cfg, "-cert", foreign["x"].CertFile)
	run(1, "the chain has a CA certificate first (CN=clusterd test Root CA), not a node's", "admit", "-config", cfg, "-cert", p.RootFile)
	run(1, `the key is ML-DSA-65, which suite "cnsa2" does not accept (ML-DSA-87)`, "admit", "-config", writeConfig("cnsa2.yaml", "{kind: csv, csv: {path: members.csv}}\nsuite: cnsa2"), "-cert", b.CertFile)
	run(1, "-weight 0: want 1..10000", "admit", "-config", cfg, "-cert", b.CertFile, "-weight", "0")
	run(1, "-cert is required", "admit", "-config", cfg)
	run(1, "repo.kind memory lives inside each node", "admit", "-config", writeConfig("mem.yaml", "{kind: memory}"), "-cert", b.CertFile)

	run(0, "Evicted "+b.ID.String(), "evict", "-config", cfg, "-id", b.ID.String())
	_, err = stored()
	require.ErrorIs(t, err, core.ErrNotFound)
	run(1, "is not in the registry", "evict", "-config", cfg, "-id", b.ID.String())
	run(1, "-id:", "evict", "-config", cfg, "-id", "abc")
}
