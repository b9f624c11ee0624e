package main

import (
	"crypto/x509/pkix"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"github.com/snowmerak/clustering/cmd/internal/cliutil"
	"github.com/snowmerak/clustering/pki"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/scrypt"
)

func pkixName(cn string) pkix.Name { return pkix.Name{CommonName: cn} }

// Encrypted keys: PBES2 with the real scrypt, passphrases from a file or the
// environment, and a clear error for a wrong or missing passphrase.
func TestEncryptedKeys(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pass"), []byte("root secret\n"), 0o600))
	ok(t, dir, "root", "-encrypt", "-pass-file", "pass", "-scrypt-log-n", "12")

	data, err := os.ReadFile(filepath.Join(dir, "root.key"))
	require.NoError(t, err)
	block, _ := pem.Decode(data)
	require.Equal(t, "ENCRYPTED PRIVATE KEY", block.Type)

	// The file opens with golang.org/x/crypto/scrypt through pki, and the
	// parameters are the ones asked for.
	var kdfN int
	recording := func(password, salt []byte, n, r, p, keyLen int) ([]byte, error) {
		kdfN = n
		return scrypt.Key(password, salt, n, r, p, keyLen)
	}
	key, err := pki.ParsePrivateKeyPEM(data, cliutil.Schemes(), recording, func() ([]byte, error) { return []byte("root secret"), nil })
	require.NoError(t, err)
	assert.Equal(t, 1<<12, kdfN)
	root := load(t, filepath.Join(dir, "root.crt"))[0]
	assert.Equal(t, root.PublicKey.Bytes(), key.Public().Bytes())

	outs := []string{"intermediate.crt", "intermediate.key"}
	fails(t, dir, nil, "CA key passphrase needed: stdin is not a terminal", outs, "intermediate")
	fails(t, dir, []string{"CPKI_CA_PASSPHRASE=wrong"}, "wrong password", outs, "intermediate")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "wrong"), []byte("nope"), 0o600))
	fails(t, dir, nil, "wrong password", outs, "intermediate", "-ca-pass-file", "wrong")
	fails(t, dir, nil, "missing: no such file", outs, "intermediate", "-ca-pass-file", "missing")

	ok(t, dir, "intermediate", "-ca-pass-file", "pass")
	r := cpki(t, dir, []string{"CPKI_CA_PASSPHRASE=root secret", "CPKI_PASSPHRASE=inter secret"},
		"intermediate", "-encrypt", "-scrypt-log-n", "11", "-out-cert", "i2.crt", "-out-key", "i2.key")
	require.Equal(t, 0, r.code, r.stderr)
	r = cpki(t, dir, []string{"CPKI_CA_PASSPHRASE=inter secret"}, "leaf", "-ca-cert", "i2.crt", "-ca-key", "i2.key")
	require.Equal(t, 0, r.code, r.stderr)

	fails(t, dir, nil, "New key passphrase needed", []string{"k.key", "k.pub"}, "keygen", "-encrypt", "-out-key", "k.key", "-out-pub", "k.pub")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "empty"), []byte("\n"), 0o600))
	fails(t, dir, nil, "passphrase is empty", []string{"k.key", "k.pub"}, "keygen", "-encrypt", "-pass-file", "empty", "-out-key", "k.key", "-out-pub", "k.pub")
}

// The default scrypt cost (2^17, 128 MiB) works end to end.
func TestEncryptedKeyWithDefaultCost(t *testing.T) {
	if testing.Short() {
		t.Skip("128 MiB scrypt; skipped with -short")
	}
	dir := t.TempDir()
	env := []string{"CPKI_PASSPHRASE=pw"}
	r := cpki(t, dir, env, "keygen", "-encrypt")
	require.Equal(t, 0, r.code, r.stderr)
	_, err := cliutil.LoadPrivateKey(filepath.Join(dir, "node.key"), cliutil.Passphrase{Env: "NONE_SET", File: writeTemp(t, dir, "pw")})
	require.NoError(t, err)
}

func writeTemp(t *testing.T, dir, content string) string {
	t.Helper()
	f := filepath.Join(dir, "passfile")
	require.NoError(t, os.WriteFile(f, []byte(content), 0o600))
	return f
}
