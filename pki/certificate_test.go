package pki

import (
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"net"
	"net/url"
	"testing"

	"github.com/snowmerak/clustering/core"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every certificate the package writes must parse with crypto/x509 with its
// extensions intact and critical where RFC 5280 wants them.
func TestIssuedCertificatesParseWithCryptoX509(t *testing.T) {
	p := newTestPKI(t)
	critical := func(xc *x509.Certificate) map[string]bool {
		m := map[string]bool{}
		for _, e := range xc.Extensions {
			m[e.Id.String()] = e.Critical
		}
		return m
	}

	root, err := x509.ParseCertificate(p.root.Raw)
	require.NoError(t, err)
	assert.Equal(t, 3, root.Version)
	assert.True(t, root.BasicConstraintsValid && root.IsCA)
	assert.Equal(t, -1, root.MaxPathLen)
	assert.Equal(t, x509.KeyUsageCertSign|x509.KeyUsageCRLSign, root.KeyUsage)
	assert.Empty(t, root.ExtKeyUsage)
	assert.Len(t, root.SubjectKeyId, 20)
	assert.Empty(t, root.AuthorityKeyId, "a self-signed root omits AKI")
	assert.Equal(t, x509.PureEd25519, root.SignatureAlgorithm)
	assert.Equal(t, map[string]bool{"2.5.29.19": true, "2.5.29.15": true, "2.5.29.14": false}, critical(root))

	inter, err := x509.ParseCertificate(p.inter.Raw)
	require.NoError(t, err)
	assert.True(t, inter.IsCA)
	assert.Equal(t, root.SubjectKeyId, inter.AuthorityKeyId)
	assert.Equal(t, root.RawSubject, inter.RawIssuer)

	leaf, err := x509.ParseCertificate(p.leaf.Raw)
	require.NoError(t, err)
	assert.True(t, leaf.BasicConstraintsValid)
	assert.False(t, leaf.IsCA)
	assert.Equal(t, x509.KeyUsageDigitalSignature, leaf.KeyUsage)
	assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, leaf.ExtKeyUsage)
	assert.Equal(t, []string{"node1.example.com", "*.svc.example.com"}, leaf.DNSNames)
	require.Len(t, leaf.IPAddresses, 2)
	assert.True(t, leaf.IPAddresses[0].Equal(net.ParseIP("10.0.0.1")))
	assert.True(t, leaf.IPAddresses[1].Equal(net.ParseIP("fd00::1")))
	require.Len(t, leaf.URIs, 1)
	assert.Equal(t, "spiffe://example.com/node/1", leaf.URIs[0].String())
	assert.Equal(t, inter.SubjectKeyId, leaf.AuthorityKeyId)
	assert.Equal(t, map[string]bool{"2.5.29.19": true, "2.5.29.15": true, "2.5.29.37": false, "2.5.29.14": false, "2.5.29.35": false, "2.5.29.17": false}, critical(leaf))
	assert.Empty(t, leaf.UnhandledCriticalExtensions)
}

// With Ed25519 keys crypto/x509 can verify the whole chain itself: an
// independent check of the encoding, the signatures and the extensions.
func TestCryptoX509VerifiesTheChain(t *testing.T) {
	p := newTestPKI(t)
	parse := func(c *Certificate) *x509.Certificate {
		xc, err := x509.ParseCertificate(c.Raw)
		require.NoError(t, err)
		return xc
	}
	roots, inters := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(parse(p.root))
	inters.AddCert(parse(p.inter))
	chains, err := parse(p.leaf).Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: inters, CurrentTime: t0, DNSName: "node1.example.com",
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	})
	require.NoError(t, err)
	require.Len(t, chains, 1)
	assert.Len(t, chains[0], 3)
}

func TestParseCertificateFields(t *testing.T) {
	p := newTestPKI(t)
	c := p.leaf
	assert.Equal(t, "node1", c.Subject.CommonName)
	assert.Equal(t, p.inter.Subject.String(), c.Issuer.String())
	assert.Equal(t, t0.Add(-day), c.NotBefore)
	assert.Equal(t, t0.Add(90*day), c.NotAfter)
	assert.False(t, c.IsCA)
	assert.Equal(t, -1, c.MaxPathLen)
	assert.Equal(t, p.leafKey.Public().Bytes(), c.PublicKey.Bytes())
	assert.Equal(t, "Ed25519", c.SignatureScheme.Name())
	assert.Len(t, c.Signature, 64)
	assert.Equal(t, core.NodeIDOf(p.leafKey.Public()), c.NodeID())
	assert.Equal(t, sha256.Sum256(c.Raw), c.Fingerprint())
	assert.True(t, p.root.IsSelfSigned())
	assert.False(t, p.inter.IsSelfSigned())
	assert.Equal(t, p.leaf.Raw, p.leaf.X509().Raw)
}

func TestPathLenIsEncodedWhenSet(t *testing.T) {
	key := testKey(t, "pl")
	for _, tc := range []struct {
		name string
		tmpl func(*Template)
		want int
	}{
		{"zero value means unlimited", func(*Template) {}, -1},
		{"MaxPathLenZero means zero", func(tm *Template) { tm.MaxPathLenZero = true }, 0},
		{"explicit two", func(tm *Template) { tm.MaxPathLen = 2 }, 2},
		{"negative means unlimited", func(tm *Template) { tm.MaxPathLen = -1 }, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := caTemplate("pl", t0, t0.Add(day))
			tc.tmpl(&tmpl)
			c, err := NewRoot(tmpl, key, nil)
			require.NoError(t, err)
			assert.Equal(t, tc.want, c.MaxPathLen)
			xc, err := x509.ParseCertificate(c.Raw)
			require.NoError(t, err)
			assert.Equal(t, tc.want, xc.MaxPathLen)
		})
	}
}

// Renewing a certificate for the same key keeps its NodeID but not its fingerprint.
func TestRenewalKeepsNodeID(t *testing.T) {
	p := newTestPKI(t)
	renewed, err := Issue(leafTemplate("node1", t0, t0.Add(180*day)), p.leafKey.Public(), p.inter, p.interKey, nil)
	require.NoError(t, err)
	assert.Equal(t, p.leaf.NodeID(), renewed.NodeID())
	assert.NotEqual(t, p.leaf.Fingerprint(), renewed.Fingerprint())
}

func TestSerialsAreRandomAndAtMost128Bits(t *testing.T) {
	p := newTestPKI(t)
	seen := map[string]bool{}
	for range 50 {
		c, err := Issue(leafTemplate("n", t0, t0.Add(day)), p.leafKey.Public(), p.inter, p.interKey, nil)
		require.NoError(t, err)
		require.Positive(t, c.SerialNumber.Sign())
		require.LessOrEqual(t, c.SerialNumber.BitLen(), 128)
		require.False(t, seen[c.SerialNumber.String()], "serial repeated")
		seen[c.SerialNumber.String()] = true
	}
}

func TestIssueRefusesBadRequests(t *testing.T) {
	p := newTestPKI(t)
	other := testKey(t, "other")
	pathLenZero, err := NewRoot(func() Template {
		tm := caTemplate("PL0", t0.Add(-day), t0.Add(100*day))
		tm.MaxPathLenZero = true
		return tm
	}(), other, nil)
	require.NoError(t, err)
	valid := leafTemplate("x", t0, t0.Add(day))
	for _, tc := range []struct {
		name    string
		tmpl    func(Template) Template
		issuer  *Certificate
		key     core.Signer
		wantErr error
	}{
		{"leaf as issuer", nil, p.leaf, p.leafKey, ErrNotCA},
		{"key does not match the CA certificate", nil, p.inter, other, ErrKeyMismatch},
		{"validity ends after the issuer's", func(tm Template) Template { tm.NotAfter = p.inter.NotAfter.Add(day); return tm }, p.inter, p.interKey, core.ErrInvalidInput},
		{"validity starts before the issuer's", func(tm Template) Template { tm.NotBefore = p.inter.NotBefore.Add(-day); return tm }, p.inter, p.interKey, core.ErrInvalidInput},
		{"CA under pathLen 0", func(tm Template) Template { tm.IsCA = true; return tm }, pathLenZero, other, ErrPathLen},
		{"missing validity", func(tm Template) Template { return Template{Subject: tm.Subject} }, p.inter, p.interKey, core.ErrInvalidInput},
		{"NotAfter before NotBefore", func(tm Template) Template { tm.NotAfter = tm.NotBefore.Add(-1); return tm }, p.inter, p.interKey, core.ErrInvalidInput},
		{"key usage RFC 9881 forbids", func(tm Template) Template { tm.KeyUsage = x509.KeyUsageKeyEncipherment; return tm }, p.inter, p.interKey, core.ErrInvalidInput},
		{"name constraints on a leaf", func(tm Template) Template {
			tm.NameConstraints.PermittedDNSDomains = []string{"example.com"}
			return tm
		}, p.inter, p.interKey, core.ErrInvalidInput},
		{"neither subject nor SAN", func(tm Template) Template { return Template{NotBefore: tm.NotBefore, NotAfter: tm.NotAfter} }, p.inter, p.interKey, core.ErrInvalidInput},
		{"non-ASCII DNS name", func(tm Template) Template { tm.DNSNames = []string{"bücher.example"}; return tm }, p.inter, p.interKey, core.ErrInvalidInput},
		{"negative serial", func(tm Template) Template { tm.SerialNumber = big.NewInt(-5); return tm }, p.inter, p.interKey, core.ErrInvalidInput},
		{"no issuer", nil, nil, p.interKey, core.ErrInvalidInput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := valid
			if tc.tmpl != nil {
				tmpl = tc.tmpl(valid)
			}
			c, err := Issue(tmpl, p.leafKey.Public(), tc.issuer, tc.key, nil)
			require.ErrorIs(t, err, tc.wantErr)
			assert.Nil(t, c)
		})
	}
}

func TestSubjectAltNameCriticalWithEmptySubject(t *testing.T) {
	p := newTestPKI(t)
	c, err := Issue(Template{NotBefore: t0, NotAfter: t0.Add(day), URIs: []*url.URL{{Scheme: "spiffe", Host: "td", Path: "/a"}}},
		p.leafKey.Public(), p.inter, p.interKey, nil)
	require.NoError(t, err)
	xc, err := x509.ParseCertificate(c.Raw)
	require.NoError(t, err)
	for _, e := range xc.Extensions {
		if e.Id.Equal(oidExtSubjectAltName) {
			assert.True(t, e.Critical)
		}
	}
	assert.Empty(t, xc.UnhandledCriticalExtensions)
}

func TestParseCertificateRejects(t *testing.T) {
	p := newTestPKI(t)
	withOuter := func(der []byte, mutate func(*signedEnvelope)) []byte {
		var env signedEnvelope
		_, err := asn1.Unmarshal(der, &env)
		require.NoError(t, err)
		mutate(&env)
		out, err := asn1.Marshal(env)
		require.NoError(t, err)
		return out
	}
	nullParams := asn1.RawValue{FullBytes: []byte{5, 0}}
	for _, tc := range []struct {
		name    string
		der     []byte
		schemes []core.SignatureScheme
		wantErr error
	}{
		{"truncated DER", p.leaf.Raw[:len(p.leaf.Raw)-10], testSchemes, ErrMalformed},
		{"empty", nil, testSchemes, ErrMalformed},
		{"trailing data", append(append([]byte{}, p.leaf.Raw...), 0), testSchemes, ErrMalformed},
		{"unknown algorithm", p.leaf.Raw, []core.SignatureScheme{altScheme}, ErrUnknownAlgorithm},
		{"no schemes at all", p.leaf.Raw, nil, ErrUnknownAlgorithm},
		{"signature algorithm with parameters", forgeDER(t, leafTemplate("x", t0, t0.Add(day)), p.leafKey.Public(), p.inter, p.interKey, func(tbs *tbsCertificate) {
			tbs.SignatureAlgorithm.Parameters = nullParams
		}), testSchemes, ErrMalformed}, // inner ≠ outer: crypto/x509 refuses first
		{"signature algorithm with parameters in both places", withOuter(forgeDER(t, leafTemplate("x", t0, t0.Add(day)), p.leafKey.Public(), p.inter, p.interKey, func(tbs *tbsCertificate) {
			tbs.SignatureAlgorithm.Parameters = nullParams
		}), func(env *signedEnvelope) { env.SignatureAlgorithm.Parameters = nullParams }), testSchemes, ErrUnknownAlgorithm},
		{"key algorithm with parameters", forgeDER(t, leafTemplate("x", t0, t0.Add(day)), p.leafKey.Public(), p.inter, p.interKey, func(tbs *tbsCertificate) {
			spki := core.MarshalPublicKeyInfo(altPublic{p.leafKey.Public()})
			var info subjectPublicKeyInfo
			_, err := asn1.Unmarshal(spki, &info)
			require.NoError(t, err)
			info.Algorithm.Parameters = nullParams
			tbs.PublicKey.FullBytes, err = asn1.Marshal(info)
			require.NoError(t, err)
		}), append([]core.SignatureScheme{altScheme}, testSchemes...), ErrUnknownAlgorithm},
		{"inner and outer algorithms differ", withOuter(p.leaf.Raw, func(env *signedEnvelope) { env.SignatureAlgorithm = algorithmIdentifier(altScheme) }),
			append([]core.SignatureScheme{altScheme}, testSchemes...), ErrMalformed},
		{"signature of the wrong size", withOuter(p.leaf.Raw, func(env *signedEnvelope) {
			env.Signature.Bytes = env.Signature.Bytes[:60]
			env.Signature.BitLength = 480
		}),
			testSchemes, ErrMalformed},
		{"version 1", forgeDER(t, leafTemplate("x", t0, t0.Add(day)), p.leafKey.Public(), p.inter, p.interKey, func(tbs *tbsCertificate) {
			tbs.Version = 0
			tbs.Extensions = nil
		}), testSchemes, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseCertificate(tc.der, tc.schemes)
			require.ErrorIs(t, err, tc.wantErr)
			require.ErrorIs(t, err, core.ErrInvalidInput)
			assert.Nil(t, c)
		})
	}
}

func TestCheckSignatureFromRefusesAlgorithmConfusion(t *testing.T) {
	p := newTestPKI(t)
	// The same key bytes under another scheme: the signature is valid Ed25519
	// but the certificate says it was made with the issuer's other algorithm.
	altIssuerKey := altSigner{p.interKey}
	c := forge(t, leafTemplate("confused", t0, t0.Add(day)), p.leafKey.Public(), p.inter, altIssuerKey, nil)
	err := c.CheckSignatureFrom(p.inter)
	require.ErrorIs(t, err, ErrBadSignature)
	assert.Contains(t, err.Error(), "Alt-Ed25519")
	assert.True(t, errors.Is(err, core.ErrVerification))
}

func TestMarshalledSubjectMatchesCryptoX509(t *testing.T) {
	name := pkix.Name{CommonName: "My Root CA", Organization: []string{"My Org"}, Country: []string{"KR"}}
	c, err := NewRoot(Template{Subject: name, NotBefore: t0, NotAfter: t0.Add(day)}, testKey(t, "n"), nil)
	require.NoError(t, err)
	assert.Equal(t, name.String(), c.Subject.String())
	assert.Equal(t, c.RawSubject, c.RawIssuer)
}
