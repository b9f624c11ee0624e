package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Names and reasons come from files a node or a peer made: a signing request
// the CA operator reads with "cpki print" before signing, a chain handed to
// "cpki verify". Terminal control characters in them must be shown escaped,
// never sent raw, or they could rewrite what the operator sees (here: erase
// the line and print a fake one).
func TestUntrustedTextCannotDriveTheTerminal(t *testing.T) {
	dir := t.TempDir()
	seedPKI(t, dir)
	ok(t, dir, "root", "-cn", "Other Root", "-out-cert", "other.crt", "-out-key", "other.key")
	evil := "node7\x1b[2K\r\u009b2KCN=trusted-node\nSignature: forged"
	ok(t, dir, "keygen", "-out-key", "evil.key", "-out-pub", "evil.pub", "-out-csr", "evil.csr", "-cn", evil, "-domains", "node7.example.com")

	clean := func(t *testing.T, name, out string) {
		t.Helper()
		for _, c := range []string{"\x1b", "\r", "\u009b", "\nSignature: forged"} {
			assert.NotContains(t, out, c, "%s wrote %q raw", name, c)
		}
		assert.Contains(t, out, `\x1b[2K`, "%s shows the control characters escaped", name)
	}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"print request", []string{"print", "evil.csr"}},
		{"sign", []string{"sign", "-in-csr", "evil.csr", "-out-cert", "evil.crt"}},
		{"print certificate", []string{"print", "evil.crt"}},
		{"verify", []string{"verify", "-ca", "root.crt", "-cert", "evil.crt"}},
		{"revoke", []string{"revoke", "-ca-cert", "root.crt", "-ca-key", "root.key", "-crl", "root.crl", "-cert", "evil.crt", "-reason", evil}},
		{"print revocation list", []string{"print", "root.crl"}},
	} {
		t.Run(tc.name, func(t *testing.T) { clean(t, tc.name, ok(t, dir, tc.args...).stdout) })
	}
	t.Run("print -json", func(t *testing.T) {
		out := ok(t, dir, "print", "-json", "evil.csr", "evil.crt", "root.crl").stdout
		assert.NotContains(t, out, "\u009b", "a C1 control (CSI) sent raw")
		var got []map[string]any
		require.NoError(t, json.Unmarshal([]byte(out), &got))
		assert.Equal(t, "CN="+evil, got[0]["subject"], "escaping keeps the value")
	})
	t.Run("verify failure", func(t *testing.T) {
		r := cpki(t, dir, nil, "verify", "-ca", "root.crt", "-cert", "evil.crt", "-dns", "node8.example.com")
		require.Equal(t, 1, r.code, r.stderr)
		assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line on stderr: %q", r.stderr)
		clean(t, "verify", r.stderr)
	})
}

// encoding/pem skips a block it cannot decode and returns the next one; the
// CLI must not quietly show or use the next certificate instead.
func TestDamagedPEMBlockIsNotSkipped(t *testing.T) {
	dir := t.TempDir()
	seedPKI(t, dir)
	leaf, err := os.ReadFile(filepath.Join(dir, "leaf.crt"))
	require.NoError(t, err)
	// Cut the leaf's END line: only the intermediate still decodes.
	damaged := strings.Replace(string(leaf), "-----END CERTIFICATE-----\n", "", 1)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "damaged.crt"), []byte(damaged), 0o644))
	fails(t, dir, nil, "damaged PEM block", nil, "print", "damaged.crt")
	fails(t, dir, nil, "damaged PEM block", nil, "verify", "-ca", "root.crt", "-cert", "damaged.crt")
}
