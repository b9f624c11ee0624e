package main

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snowmerak/clustering/cmd/internal/cliutil"
	"github.com/snowmerak/clustering/pki"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRevoke(t *testing.T) {
	dir := t.TempDir()
	seedPKI(t, dir)
	ok(t, dir, "leaf", "-cn", "Second Node", "-out-cert", "second.crt", "-out-key", "second.key")
	ok(t, dir, "verify", "-ca", "root.crt", "-cert", "leaf.crt")

	// The intermediate revokes the first leaf.
	r := ok(t, dir, "revoke", "-crl", "inter.crl", "-cert", "leaf.crt", "-reason", "key compromise")
	assert.Contains(t, r.stdout, "Wrote revocation list 1 of CN=My Intermediate CA with 1 entries")
	fails(t, dir, nil, "certificate 0 (CN=My Leaf Node): certificate revoked", nil,
		"verify", "-ca", "root.crt", "-cert", "leaf.crt", "-crl", "inter.crl")
	ok(t, dir, "verify", "-ca", "root.crt", "-cert", "second.crt", "-crl", "inter.crl")

	// Updating the list raises its number and keeps the old entries; a
	// certificate already listed is not listed twice.
	second := load(t, filepath.Join(dir, "second.crt"))[0]
	r = ok(t, dir, "revoke", "-crl", "inter.crl", "-serial", second.SerialNumber.Text(16), "-cert", "leaf.crt")
	assert.Contains(t, r.stdout, "Wrote revocation list 2 of CN=My Intermediate CA with 2 entries")
	fails(t, dir, nil, "certificate 0 (CN=Second Node): certificate revoked", nil,
		"verify", "-ca", "root.crt", "-cert", "second.crt", "-crl", "inter.crl")
	r = ok(t, dir, "print", "inter.crl")
	assert.Contains(t, r.stdout, "Number: 2")
	assert.Contains(t, r.stdout, "Reason: key compromise")

	// The root revokes the intermediate by fingerprint: every leaf under it fails.
	inter := load(t, filepath.Join(dir, "intermediate.crt"))[0]
	fp := inter.Fingerprint()
	ok(t, dir, "revoke", "-ca-cert", "root.crt", "-ca-key", "root.key", "-crl", "root.crl", "-fingerprint", hex.EncodeToString(fp[:]))
	fails(t, dir, nil, "certificate 1 (CN=My Intermediate CA): certificate revoked", nil,
		"verify", "-ca", "root.crt", "-cert", "second.crt", "-crl", "root.crl")

	// A list signed by a CA the verifier does not trust is refused.
	ok(t, dir, "root", "-cn", "Other Root", "-out-cert", "other.crt", "-out-key", "other.key")
	ok(t, dir, "revoke", "-ca-cert", "other.crt", "-ca-key", "other.key", "-crl", "other.crl", "-cert", "second.crt")
	fails(t, dir, nil, "unknown authority", nil, "verify", "-ca", "root.crt", "-cert", "second.crt", "-crl", "other.crl")

	// Another CA cannot update this CA's list; a bad flag value writes nothing.
	before, err := os.ReadFile(filepath.Join(dir, "inter.crl"))
	require.NoError(t, err)
	fails(t, dir, nil, "is not this CA's list", nil, "revoke", "-ca-cert", "root.crt", "-ca-key", "root.key", "-crl", "inter.crl", "-cert", "leaf.crt")
	fails(t, dir, nil, "is not a hex SHA-256 fingerprint", nil, "revoke", "-crl", "inter.crl", "-fingerprint", "abc")
	fails(t, dir, nil, "is not a hex serial number", []string{"new.crl"}, "revoke", "-crl", "new.crl", "-serial", "xyz")
	after, err := os.ReadFile(filepath.Join(dir, "inter.crl"))
	require.NoError(t, err)
	assert.Equal(t, before, after)

	// The list file carries the intermediate so a trust store holding only
	// the root can check it.
	data, err := os.ReadFile(filepath.Join(dir, "inter.crl"))
	require.NoError(t, err)
	rl, chain, err := pki.ParseRevocationListPEM(data, cliutil.Schemes())
	require.NoError(t, err)
	require.Len(t, chain, 1)
	assert.Equal(t, inter.Raw, chain[0].Raw)
	assert.Equal(t, int64(2), rl.Number)
}

// TestParseSerial takes serials in the forms cpki prints them: "print"'s
// colon-separated bytes and "print -json"'s digits, whose count may be odd.
func TestParseSerial(t *testing.T) {
	for in, want := range map[string]string{
		"0a:1b":                           "a1b",
		"a1b":                             "a1b",
		"76db60056c11ab1b5f4a95aa08930da": "76db60056c11ab1b5f4a95aa08930da",
		"7F":                              "7f",
		"7f" + strings.Repeat("ff", 19):   "7f" + strings.Repeat("ff", 19),
	} {
		got, err := parseSerial(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got.Text(16), in)
	}
	for _, in := range []string{"", ":", "xyz", "0x12", "-1", "+1", "0", "00:00", "80" + strings.Repeat("00", 19), "1 2"} {
		_, err := parseSerial(in)
		assert.ErrorContains(t, err, "is not a hex serial number", in)
	}
}
