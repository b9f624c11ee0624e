package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snowmerak/clustering/cmd/internal/clitest"
	"github.com/snowmerak/clustering/cmd/internal/cliutil"
	"github.com/snowmerak/clustering/pki"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests drive the real binary, built once, on first use (so fuzz
// workers, which run no end-to-end test, do not build it).
var cpkiBin = clitest.New("cpki", ".")

func TestMain(m *testing.M) { os.Exit(cpkiBin.Main(m)) }

type result struct {
	code           int
	stdout, stderr string
}

// cpki runs the binary in dir with extra environment variables.
func cpki(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(cpkiBin.Path(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader("") // never a terminal
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return result{code, stdout.String(), stderr.String()}
}

// ok runs cpki and requires success.
func ok(t *testing.T, dir string, args ...string) result {
	t.Helper()
	r := cpki(t, dir, nil, args...)
	require.Equal(t, 0, r.code, "cpki %v\nstdout: %s\nstderr: %s", args, r.stdout, r.stderr)
	return r
}

// fails runs cpki, requires exit status 1 with one clear line on stderr
// containing want, and requires that none of the files in absent exists.
func fails(t *testing.T, dir string, env []string, want string, absent []string, args ...string) {
	t.Helper()
	r := cpki(t, dir, env, args...)
	require.Equal(t, 1, r.code, "cpki %v should fail\nstdout: %s\nstderr: %s", args, r.stdout, r.stderr)
	assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line on stderr: %q", r.stderr)
	assert.True(t, strings.HasPrefix(r.stderr, "cpki "+args[0]+": "), "stderr: %q", r.stderr)
	assert.Contains(t, r.stderr, want)
	for _, f := range absent {
		assert.NoFileExists(t, filepath.Join(dir, f), "nothing may be written on error")
	}
}

// seedPKI runs the seed's README workflow in dir.
func seedPKI(t *testing.T, dir string) {
	t.Helper()
	ok(t, dir, "root", "-cn", "My Root CA", "-out-cert", "root.crt", "-out-key", "root.key", "-days", "3650")
	ok(t, dir, "intermediate", "-ca-cert", "root.crt", "-ca-key", "root.key", "-cn", "My Intermediate CA",
		"-out-cert", "intermediate.crt", "-out-key", "intermediate.key", "-days", "1825")
	ok(t, dir, "leaf", "-ca-cert", "intermediate.crt", "-ca-key", "intermediate.key", "-cn", "My Leaf Node",
		"-out-cert", "leaf.crt", "-out-key", "leaf.key", "-days", "365")
}

func load(t *testing.T, path string) []*pki.Certificate {
	t.Helper()
	certs, err := cliutil.LoadCertificates(path)
	require.NoError(t, err)
	return certs
}

func TestHelpExplainsEveryFlag(t *testing.T) {
	r := cpki(t, t.TempDir(), nil, "-h")
	require.Equal(t, 0, r.code)
	for _, c := range commands() {
		assert.Contains(t, r.stderr, c.Name)
	}
	flags := map[string][]string{
		"root":         {"cn", "org", "alg", "out-key", "out-cert", "encrypt", "pass-file", "scrypt-log-n", "days", "path-len", "permit-domains", "permit-ips", "permit-uri-domains"},
		"intermediate": {"ca-cert", "ca-key", "ca-pass-file", "cn", "org", "alg", "out-key", "out-cert", "encrypt", "pass-file", "scrypt-log-n", "days", "path-len", "permit-domains", "permit-ips", "permit-uri-domains"},
		"leaf":         {"ca-cert", "ca-key", "ca-pass-file", "cn", "org", "ips", "domains", "uri", "alg", "out-key", "out-cert", "encrypt", "pass-file", "scrypt-log-n", "days"},
		"keygen":       {"alg", "out-key", "out-pub", "out-csr", "encrypt", "pass-file", "scrypt-log-n", "cn", "org", "ips", "domains", "uri"},
		"sign":         {"ca-cert", "ca-key", "ca-pass-file", "in-pub", "in-csr", "cn", "org", "ips", "domains", "uri", "out-cert", "days"},
		"print":        {"json"},
		"verify":       {"ca", "cert", "crl", "time", "dns", "uri", "ip", "usage"},
		"revoke":       {"ca-cert", "ca-key", "ca-pass-file", "crl", "cert", "serial", "fingerprint", "reason"},
	}
	require.Len(t, flags, len(commands()))
	for name, want := range flags {
		t.Run(name, func(t *testing.T) {
			r := cpki(t, t.TempDir(), nil, name, "-h")
			require.Equal(t, 0, r.code)
			assert.Contains(t, r.stderr, "Usage: cpki "+name)
			var got []string
			for _, line := range strings.Split(r.stderr, "\n") {
				if f, found := strings.CutPrefix(line, "  -"); found {
					got = append(got, strings.Fields(f)[0])
				}
			}
			assert.ElementsMatch(t, want, got, "every flag is listed, with its help")
		})
	}
}

func TestUnknownCommandAndBadFlags(t *testing.T) {
	dir := t.TempDir()
	r := cpki(t, dir, nil, "frobnicate")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, `unknown command "frobnicate"`)
	r = cpki(t, dir, nil, "root", "-no-such-flag")
	assert.Equal(t, 2, r.code)
	r = cpki(t, dir, nil, "root", "stray")
	assert.Equal(t, 2, r.code)
	assert.NoFileExists(t, filepath.Join(dir, "root.crt"))
	assert.Equal(t, 2, cpki(t, dir, nil).code)
}
