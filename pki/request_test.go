package pki

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"net/url"
	"testing"

	"github.com/snowmerak/clustering/core"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCertificateRequestFlow(t *testing.T) {
	p := newTestPKI(t)
	nodeKey := testKey(t, "node")
	req, err := CreateCertificateRequest(RequestTemplate{
		Subject:     pkix.Name{CommonName: "node7"},
		DNSNames:    []string{"node7.example.com"},
		IPAddresses: []net.IP{net.ParseIP("10.0.0.7")},
		URIs:        []*url.URL{{Scheme: "spiffe", Host: "example.com", Path: "/node/7"}},
	}, nodeKey)
	require.NoError(t, err)

	// crypto/x509 reads the request and, for Ed25519, checks its signature too.
	std, err := x509.ParseCertificateRequest(req.Raw)
	require.NoError(t, err)
	require.NoError(t, std.CheckSignature())
	assert.Equal(t, []string{"node7.example.com"}, std.DNSNames)

	// The CA side: parse the PEM file, verify, issue for the requested names.
	got, err := ParseCertificateRequestPEM(EncodeCertificateRequestPEM(req), testSchemes)
	require.NoError(t, err)
	assert.Equal(t, core.NodeIDOf(nodeKey.Public()), core.NodeIDFromPublicKeyInfo(got.RawSubjectPublicKeyInfo))
	tmpl := got.Template()
	tmpl.NotBefore, tmpl.NotAfter = t0, t0.Add(day)
	leaf, err := Issue(tmpl, got.PublicKey, p.inter, p.interKey, nil)
	require.NoError(t, err)
	_, err = p.store().Verify([]*Certificate{leaf, p.inter}, VerifyOptions{Now: t0, URI: "spiffe://example.com/node/7", IP: net.ParseIP("10.0.0.7")})
	require.NoError(t, err)
	assert.Equal(t, "node7", leaf.Subject.CommonName)
}

func TestParseCertificateRequestRejects(t *testing.T) {
	p := newTestPKI(t)
	req, err := CreateCertificateRequest(RequestTemplate{Subject: pkix.Name{CommonName: "node7"}}, testKey(t, "node"))
	require.NoError(t, err)
	for _, tc := range []struct {
		name    string
		der     []byte
		schemes []core.SignatureScheme
		wantErr error
	}{
		{"tampered signature", flip(req.Raw, len(req.Raw)-1), testSchemes, ErrBadSignature},
		{"tampered subject", flip(req.Raw, bytesIndex(t, req.Raw, []byte("node7"))), testSchemes, ErrBadSignature},
		{"truncated", req.Raw[:len(req.Raw)-2], testSchemes, ErrMalformed},
		{"unknown algorithm", req.Raw, []core.SignatureScheme{altScheme}, ErrUnknownAlgorithm},
		{"a certificate instead", p.leaf.Raw, testSchemes, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseCertificateRequest(tc.der, tc.schemes)
			require.ErrorIs(t, err, tc.wantErr)
			assert.Nil(t, r)
		})
	}
	_, err = ParseCertificateRequestPEM(EncodeCertificatesPEM(p.leaf), testSchemes)
	require.ErrorIs(t, err, ErrWrongPEMType)
}
