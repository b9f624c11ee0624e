package pki

import (
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"io"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest"
	"github.com/stretchr/testify/require"
)

// Unit tests use coretest.Ed25519, a real signature scheme from the standard
// library, so crypto/x509 can cross-check whole chains; ML-DSA end to end is
// tested in cmd/cpki with adapters/pqc.
var testSchemes = []core.SignatureScheme{coretest.Ed25519}

// t0 is the fixed "now" of the tests.
var t0 = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// testKey derives a deterministic Ed25519 key from a label.
func testKey(t testing.TB, label string) core.Signer {
	t.Helper()
	seed := sha256.Sum256([]byte(label))
	k, err := coretest.Ed25519.NewKeyFromSeed(seed[:])
	require.NoError(t, err)
	return k
}

func caTemplate(cn string, from, to time.Time) Template {
	return Template{Subject: pkix.Name{CommonName: cn, Organization: []string{"Test"}}, NotBefore: from, NotAfter: to, IsCA: true}
}

func leafTemplate(cn string, from, to time.Time) Template {
	return Template{
		Subject:     pkix.Name{CommonName: cn},
		NotBefore:   from,
		NotAfter:    to,
		DNSNames:    []string{"node1.example.com", "*.svc.example.com"},
		IPAddresses: []net.IP{net.ParseIP("10.0.0.1"), net.ParseIP("fd00::1")},
		URIs:        []*url.URL{{Scheme: "spiffe", Host: "example.com", Path: "/node/1"}},
	}
}

// testPKI is root → intermediate → leaf, valid around t0.
type testPKI struct {
	root, inter, leaf          *Certificate
	rootKey, interKey, leafKey core.Signer
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	p := &testPKI{rootKey: testKey(t, "root"), interKey: testKey(t, "inter"), leafKey: testKey(t, "leaf")}
	var err error
	p.root, err = NewRoot(caTemplate("Test Root", t0.Add(-365*day), t0.Add(3650*day)), p.rootKey, nil)
	require.NoError(t, err)
	p.inter, err = Issue(caTemplate("Test Intermediate", t0.Add(-30*day), t0.Add(1000*day)), p.interKey.Public(), p.root, p.rootKey, nil)
	require.NoError(t, err)
	p.leaf, err = Issue(leafTemplate("node1", t0.Add(-day), t0.Add(90*day)), p.leafKey.Public(), p.inter, p.interKey, nil)
	require.NoError(t, err)
	return p
}

func (p *testPKI) store() *TrustStore { return NewTrustStore(p.root) }

// forge signs a certificate without Issue's safety checks, to build the
// malformed chains that verification must reject. issuer nil self-signs.
func forge(t testing.TB, tmpl Template, pub core.PublicKey, issuer *Certificate, key core.Signer, mutate func(*tbsCertificate)) *Certificate {
	t.Helper()
	if tmpl.KeyUsage == 0 {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		if tmpl.IsCA {
			tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
		}
	}
	der := forgeDER(t, tmpl, pub, issuer, key, mutate)
	c, err := ParseCertificate(der, append([]core.SignatureScheme{altScheme}, testSchemes...))
	require.NoError(t, err)
	return c
}

func forgeDER(t testing.TB, tmpl Template, pub core.PublicKey, issuer *Certificate, key core.Signer, mutate func(*tbsCertificate)) []byte {
	t.Helper()
	tbsDER, err := encodeTBS(&tmpl, pub, issuer, key.Scheme(), nil)
	require.NoError(t, err)
	if mutate != nil {
		var tbs tbsCertificate
		_, err := asn1.Unmarshal(tbsDER, &tbs)
		require.NoError(t, err)
		mutate(&tbs)
		tbsDER, err = asn1.Marshal(tbs)
		require.NoError(t, err)
	}
	der, err := sign(tbsDER, key, nil)
	require.NoError(t, err)
	return der
}

// altScheme is Ed25519 under another OID: a second, distinct scheme for the
// tests of algorithm confusion and of the RFC 9881 seed-form private key.
var altScheme core.SignatureScheme = altEd25519{}

var oidAlt = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 55555, 1}

type altEd25519 struct{}

func (altEd25519) Name() string               { return "Alt-Ed25519" }
func (altEd25519) OID() asn1.ObjectIdentifier { return oidAlt }
func (altEd25519) PublicKeySize() int         { return 32 }
func (altEd25519) SignatureSize() int         { return 64 }
func (altEd25519) SeedSize() int              { return 32 }
func (altEd25519) NewKeyFromSeed(seed []byte) (core.Signer, error) {
	k, err := coretest.Ed25519.NewKeyFromSeed(seed)
	return altSigner{k}, err
}
func (s altEd25519) GenerateKey(r io.Reader) (core.Signer, error) {
	k, err := coretest.Ed25519.GenerateKey(r)
	return altSigner{k}, err
}
func (altEd25519) ParsePublicKey(b []byte) (core.PublicKey, error) {
	p, err := coretest.Ed25519.ParsePublicKey(b)
	return altPublic{p}, err
}

type altSigner struct{ core.Signer }

func (altSigner) Scheme() core.SignatureScheme { return altScheme }
func (s altSigner) Public() core.PublicKey     { return altPublic{s.Signer.Public()} }

type altPublic struct{ core.PublicKey }

func (altPublic) Scheme() core.SignatureScheme { return altScheme }

func pkixExtension(id asn1.ObjectIdentifier, critical bool, value []byte) pkix.Extension {
	return pkix.Extension{Id: id, Critical: critical, Value: value}
}

// mustList signs a revocation list with a CA.
func mustList(t testing.TB, signer *Certificate, key core.Signer, number int64, entries ...RevocationEntry) *RevocationList {
	t.Helper()
	rl, err := CreateRevocationList(number, t0, entries, signer, key)
	require.NoError(t, err)
	return rl
}

// flip returns a copy of b with one bit of byte i inverted.
func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0x01
	return c
}
