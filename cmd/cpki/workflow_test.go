package main

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/snowmerak/clustering/cmd/internal/cliutil"
	"github.com/snowmerak/clustering/pki"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The seed's README workflow: root → intermediate → leaf, verified against
// the root, rejected against another root, and readable by crypto/x509.
func TestSeedWorkflow(t *testing.T) {
	dir := t.TempDir()
	seedPKI(t, dir)
	ok(t, dir, "root", "-cn", "My Root CA", "-out-cert", "other.crt", "-out-key", "other.key")

	r := ok(t, dir, "verify", "-ca", "root.crt", "-cert", "leaf.crt")
	assert.Contains(t, r.stdout, "OK: CN=My Leaf Node <- CN=My Intermediate CA <- CN=My Root CA")
	fails(t, dir, nil, "certificate 1 (CN=My Intermediate CA): certificate signed by unknown authority", nil,
		"verify", "-ca", "other.crt", "-cert", "leaf.crt")

	for _, f := range []string{"root.key", "intermediate.key", "leaf.key", "other.key"} {
		st, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), f)
	}
	// The leaf file holds the leaf and then its intermediate.
	chain := load(t, filepath.Join(dir, "leaf.crt"))
	require.Len(t, chain, 2)
	assert.Equal(t, "My Leaf Node", chain[0].Subject.CommonName)
	assert.Equal(t, "My Intermediate CA", chain[1].Subject.CommonName)
	assert.Len(t, load(t, filepath.Join(dir, "intermediate.crt")), 1, "a root-issued intermediate has no chain to bundle")

	for _, f := range []string{"root.crt", "intermediate.crt", "leaf.crt"} {
		for _, xc := range parseX509(t, filepath.Join(dir, f)) {
			assert.Equal(t, 3, xc.Version)
			assert.Equal(t, x509.UnknownPublicKeyAlgorithm, xc.PublicKeyAlgorithm, "ML-DSA is unknown to crypto/x509")
			assert.True(t, xc.BasicConstraintsValid)
			assert.NotEmpty(t, xc.SubjectKeyId)
			assert.Empty(t, xc.UnhandledCriticalExtensions)
		}
	}
	leaf := parseX509(t, filepath.Join(dir, "leaf.crt"))[0]
	assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, leaf.ExtKeyUsage)
	assert.Equal(t, x509.KeyUsageDigitalSignature, leaf.KeyUsage)
	root := parseX509(t, filepath.Join(dir, "root.crt"))[0]
	assert.True(t, root.IsCA)
	assert.Equal(t, x509.KeyUsageCertSign|x509.KeyUsageCRLSign, root.KeyUsage)

	key, err := cliutil.LoadPrivateKey(filepath.Join(dir, "leaf.key"), cliutil.Passphrase{})
	require.NoError(t, err)
	assert.Equal(t, chain[0].PublicKey.Bytes(), key.Public().Bytes())
	assert.Equal(t, "ML-DSA-65", key.Scheme().Name(), "the default algorithm")
}

func parseX509(t *testing.T, path string) []*x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var out []*x509.Certificate
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		xc, err := x509.ParseCertificate(block.Bytes)
		require.NoError(t, err)
		out = append(out, xc)
	}
	require.NotEmpty(t, out)
	return out
}

// The seed ignored -ips and -domains; now they, -uri and -alg are honoured.
func TestLeafNamesAndAlgorithms(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "root", "-cn", "Root 87", "-alg", "ml-dsa-87", "-path-len", "1")
	ok(t, dir, "intermediate", "-cn", "Inter 44", "-alg", "ml-dsa-44", "-path-len", "0")
	ok(t, dir, "leaf", "-cn", "node1", "-ips", "10.0.0.1,fd00::1", "-domains", "node1.example.com, *.svc.example.com",
		"-uri", "spiffe://cluster.local/node/1")

	xcs := parseX509(t, filepath.Join(dir, "leaf.crt"))
	assert.Equal(t, []string{"node1.example.com", "*.svc.example.com"}, xcs[0].DNSNames)
	require.Len(t, xcs[0].IPAddresses, 2)
	assert.True(t, xcs[0].IPAddresses[0].Equal(net.ParseIP("10.0.0.1")))
	assert.Equal(t, "spiffe://cluster.local/node/1", xcs[0].URIs[0].String())
	assert.Equal(t, 0, xcs[1].MaxPathLen)
	assert.True(t, xcs[1].MaxPathLenZero)
	assert.Equal(t, 1, parseX509(t, filepath.Join(dir, "root.crt"))[0].MaxPathLen)

	for file, alg := range map[string]string{"root.crt": "ML-DSA-87", "intermediate.crt": "ML-DSA-44", "leaf.crt": "ML-DSA-65"} {
		assert.Equal(t, alg, load(t, filepath.Join(dir, file))[0].PublicKey.Scheme().Name(), file)
	}
	leaf := load(t, filepath.Join(dir, "leaf.crt"))[0]
	assert.Equal(t, "ML-DSA-44", leaf.SignatureScheme.Name(), "signed by the ML-DSA-44 intermediate")

	ok(t, dir, "verify", "-ca", "root.crt", "-cert", "leaf.crt", "-dns", "db.svc.example.com", "-ip", "fd00::1",
		"-uri", "spiffe://cluster.local/node/1", "-usage", "server,client")
	for _, tc := range []struct{ flag, value, want string }{
		{"-dns", "other.example.com", "name not in certificate"},
		{"-ip", "10.0.0.2", "name not in certificate"},
		{"-uri", "spiffe://cluster.local/node/2", "name not in certificate"},
		{"-time", time.Now().AddDate(2, 0, 0).Format(time.RFC3339), "certificate 0 (CN=node1): certificate expired"},
		{"-time", "2001-01-01T00:00:00Z", "not yet valid"},
	} {
		fails(t, dir, nil, tc.want, nil, "verify", "-ca", "root.crt", "-cert", "leaf.crt", tc.flag, tc.value)
	}
	// A leaf cannot outlive its CA: its validity is cut, and the user told.
	r := ok(t, dir, "leaf", "-cn", "long", "-days", "5000", "-out-cert", "long.crt", "-out-key", "long.key")
	assert.Contains(t, r.stdout, "Note: validity shortened to the CA's expiry")
	assert.Equal(t, load(t, filepath.Join(dir, "intermediate.crt"))[0].NotAfter, load(t, filepath.Join(dir, "long.crt"))[0].NotAfter)
	// pathLen 0 on the intermediate: it cannot make another CA.
	fails(t, dir, nil, "pathLen 0", []string{"sub.crt", "sub.key"},
		"intermediate", "-ca-cert", "intermediate.crt", "-ca-key", "intermediate.key", "-out-cert", "sub.crt", "-out-key", "sub.key")
}

func TestNameConstraintFlags(t *testing.T) {
	dir := t.TempDir()
	ok(t, dir, "root", "-permit-domains", "example.com", "-permit-ips", "10.0.0.0/8", "-permit-uri-domains", "cluster.local")
	ok(t, dir, "intermediate")
	ok(t, dir, "leaf", "-out-cert", "in.crt", "-out-key", "in.key", "-domains", "a.example.com", "-ips", "10.1.2.3", "-uri", "spiffe://cluster.local/a")
	ok(t, dir, "leaf", "-out-cert", "out.crt", "-out-key", "out.key", "-domains", "a.example.org")
	ok(t, dir, "verify", "-ca", "root.crt", "-cert", "in.crt")
	fails(t, dir, nil, "name constraint violated", nil, "verify", "-ca", "root.crt", "-cert", "out.crt")
	// The constrained CA itself refuses to issue outside its constraints
	// (the intermediate above does not know the root's).
	fails(t, dir, nil, "IP 192.168.1.1 is not within [10.0.0.0/8]", []string{"bad.crt", "bad.key"},
		"leaf", "-ca-cert", "root.crt", "-ca-key", "root.key", "-out-cert", "bad.crt", "-out-key", "bad.key", "-ips", "192.168.1.1")
	assert.Contains(t, ok(t, dir, "print", "root.crt").stdout, "Permitted DNS:example.com, Permitted IP:10.0.0.0/8, Permitted URI:cluster.local")
}

// keygen on the node, sign at the CA: the node's private key never travels.
func TestKeygenAndSign(t *testing.T) {
	dir := t.TempDir()
	seedPKI(t, dir)
	r := ok(t, dir, "keygen", "-out-key", "node.key", "-out-pub", "node.pub", "-out-csr", "node.csr",
		"-cn", "node7", "-domains", "node7.example.com", "-ips", "10.0.0.7")
	assert.Contains(t, r.stdout, "NodeID")

	r = ok(t, dir, "print", "node.csr")
	assert.Contains(t, r.stdout, "Subject: CN=node7")
	assert.Contains(t, r.stdout, "DNS:node7.example.com, IP Address:10.0.0.7")

	// Absent names print as empty lists in JSON, all three alike.
	ok(t, dir, "keygen", "-out-key", "n8.key", "-out-pub", "n8.pub", "-out-csr", "n8.csr", "-cn", "node8")
	var req []map[string]any
	require.NoError(t, json.Unmarshal([]byte(ok(t, dir, "print", "-json", "n8.csr").stdout), &req))
	require.Len(t, req, 1)
	for _, field := range []string{"dnsNames", "ipAddresses", "uris"} {
		assert.Equal(t, []any{}, req[0][field], field)
	}

	ok(t, dir, "sign", "-in-csr", "node.csr", "-out-cert", "from-csr.crt")
	ok(t, dir, "sign", "-in-pub", "node.pub", "-cn", "node7b", "-uri", "spiffe://cluster.local/node/7", "-out-cert", "from-pub.crt")
	ok(t, dir, "verify", "-ca", "root.crt", "-cert", "from-csr.crt", "-dns", "node7.example.com", "-ip", "10.0.0.7")
	ok(t, dir, "verify", "-ca", "root.crt", "-cert", "from-pub.crt", "-uri", "spiffe://cluster.local/node/7")

	key, err := cliutil.LoadPrivateKey(filepath.Join(dir, "node.key"), cliutil.Passphrase{})
	require.NoError(t, err)
	for _, f := range []string{"from-csr.crt", "from-pub.crt"} {
		chain := load(t, filepath.Join(dir, f))
		require.Len(t, chain, 2)
		assert.Equal(t, key.Public().Bytes(), chain[0].PublicKey.Bytes(), f)
	}

	// A request whose signature is broken is refused.
	data, err := os.ReadFile(filepath.Join(dir, "node.csr"))
	require.NoError(t, err)
	block, _ := pem.Decode(data)
	block.Bytes[len(block.Bytes)-5] ^= 1
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.csr"), pem.EncodeToMemory(block), 0o644))
	fails(t, dir, nil, "bad signature", []string{"bad.crt"}, "sign", "-in-csr", "bad.csr", "-out-cert", "bad.crt")
	fails(t, dir, nil, "exactly one of -in-pub and -in-csr", []string{"x.crt"}, "sign", "-in-pub", "node.pub", "-in-csr", "node.csr", "-out-cert", "x.crt")
	fails(t, dir, nil, "needs a name", []string{"x.crt"}, "sign", "-in-pub", "node.pub", "-out-cert", "x.crt")
	fails(t, dir, nil, "add -out-csr", []string{"k2.key", "k2.pub"}, "keygen", "-out-key", "k2.key", "-out-pub", "k2.pub", "-cn", "x")
	fails(t, dir, nil, "a signing request names the node", []string{"k3.key", "k3.pub", "k3.csr"}, "keygen", "-out-key", "k3.key", "-out-pub", "k3.pub", "-out-csr", "k3.csr")
}

func TestPrint(t *testing.T) {
	dir := t.TempDir()
	seedPKI(t, dir)
	r := ok(t, dir, "print", "leaf.crt")
	for _, want := range []string{
		"Signature Algorithm: ML-DSA-65", "Subject: CN=My Leaf Node", "Issuer: CN=My Intermediate CA",
		"X509v3 Basic Constraints: critical", "CA:FALSE", "X509v3 Key Usage: critical", "Digital Signature",
		"TLS Web Server Authentication, TLS Web Client Authentication", "X509v3 Subject Key Identifier:",
		"X509v3 Authority Key Identifier:", "Public-Key: (1952 bytes)", "Signature Value: (3309 bytes)", "SHA256 Fingerprint:",
	} {
		assert.Contains(t, r.stdout, want)
	}
	assert.Equal(t, 2, strings.Count(r.stdout, "Certificate:\n"), "both certificates of the chain")

	r = ok(t, dir, "print", "-json", "leaf.crt", "root.crt")
	var got []map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got))
	require.Len(t, got, 3)
	chain := load(t, filepath.Join(dir, "leaf.crt"))
	assert.Equal(t, "certificate", got[0]["type"])
	assert.Equal(t, "CN=My Leaf Node", got[0]["subject"])
	assert.Equal(t, chain[0].NodeID().String(), got[0]["nodeId"])
	assert.Equal(t, "ML-DSA-65", got[0]["publicKeyAlgorithm"])
	assert.Equal(t, true, got[2]["isCA"])
	assert.Equal(t, float64(-1), got[2]["maxPathLen"])

	fails(t, dir, nil, "private key", nil, "print", "leaf.key")
	fails(t, dir, nil, "no such file", nil, "print", "missing.crt")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "junk.crt"), []byte("junk"), 0o644))
	fails(t, dir, nil, "no PEM block", nil, "print", "junk.crt")
}

// Mistakes exit non-zero with one clear line and write nothing.
func TestBadInputWritesNothing(t *testing.T) {
	dir := t.TempDir()
	seedPKI(t, dir)
	ok(t, dir, "root", "-cn", "Other Root", "-out-cert", "other.crt", "-out-key", "other.key")
	writeExpiredCA(t, dir)
	outs := []string{"new.crt", "new.key"}
	leaf := func(extra ...string) []string {
		return append([]string{"leaf", "-cn", "n", "-out-cert", "new.crt", "-out-key", "new.key"}, extra...)
	}
	for _, tc := range []struct {
		name, want string
		args       []string
	}{
		{"missing CA certificate", "missing.crt: no such file", leaf("-ca-cert", "missing.crt")},
		{"missing CA key", "missing.key: no such file", leaf("-ca-key", "missing.key")},
		{"CA key of another CA", "private key does not match certificate", leaf("-ca-key", "other.key")},
		{"a leaf as issuer", "is not a CA certificate", leaf("-ca-cert", "leaf.crt", "-ca-key", "leaf.key")},
		{"expired CA", `CA certificate "CN=Expired CA" expired at`, leaf("-ca-cert", "expired.crt", "-ca-key", "expired.key")},
		{"a key file as certificate", "wrong PEM type", leaf("-ca-cert", "intermediate.key")},
		{"invalid IP", `"10.0.0.300" is not an IP address`, leaf("-ips", "10.0.0.300")},
		{"relative URI", "is not an absolute URI", leaf("-uri", "node/1")},
		{"bad SPIFFE ID", "not a valid SPIFFE ID", leaf("-uri", "spiffe://td:8080/x")},
		{"SPIFFE trust domains are lowercase", "not a valid SPIFFE ID", leaf("-uri", "spiffe://Cluster.Local/node/1")},
		{"non-ASCII DNS name", "not printable ASCII", leaf("-domains", "bücher.example")},
		{"unknown algorithm", `unknown algorithm "rsa"`, leaf("-alg", "rsa")},
		{"negative days", "-days must be positive", leaf("-days", "-1")},
	} {
		t.Run(tc.name, func(t *testing.T) { fails(t, dir, nil, tc.want, outs, tc.args...) })
	}
	t.Run("existing output is not overwritten", func(t *testing.T) {
		before, err := os.ReadFile(filepath.Join(dir, "leaf.key"))
		require.NoError(t, err)
		fails(t, dir, nil, "leaf.key already exists", []string{"fresh.crt"}, "leaf", "-out-cert", "fresh.crt", "-out-key", "leaf.key")
		after, err := os.ReadFile(filepath.Join(dir, "leaf.key"))
		require.NoError(t, err)
		assert.Equal(t, before, after)
	})
}

// writeExpiredCA makes a CA whose validity ended yesterday, with the library
// (cpki refuses to make one).
func writeExpiredCA(t *testing.T, dir string) {
	t.Helper()
	scheme, err := cliutil.SchemeByName("ml-dsa-44")
	require.NoError(t, err)
	key, err := scheme.GenerateKey(nil)
	require.NoError(t, err)
	ca, err := pki.NewRoot(pki.Template{Subject: pkixName("Expired CA"), NotBefore: time.Now().AddDate(0, 0, -30), NotAfter: time.Now().AddDate(0, 0, -1)}, key, nil)
	require.NoError(t, err)
	keyPEM, err := pki.EncodePrivateKeyPEM(key)
	require.NoError(t, err)
	require.NoError(t, pki.WriteNewFiles(
		pki.NewFile{Path: filepath.Join(dir, "expired.crt"), Data: pki.EncodeCertificatesPEM(ca), Mode: pki.CertFileMode},
		pki.NewFile{Path: filepath.Join(dir, "expired.key"), Data: keyPEM, Mode: pki.KeyFileMode}))
}
