package pki

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/snowmerak/clustering/core"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVerifyAccepts(t *testing.T) {
	p := newTestPKI(t)
	rootCopy, err := NewRoot(caTemplate("Test Root", t0.Add(-400*day), t0.Add(4000*day)), p.rootKey, nil)
	require.NoError(t, err)
	direct, err := Issue(leafTemplate("direct", t0.Add(-day), t0.Add(day)), p.leafKey.Public(), p.root, p.rootKey, nil)
	require.NoError(t, err)
	for _, tc := range []struct {
		name  string
		chain []*Certificate
		opts  VerifyOptions
	}{
		{"leaf and intermediate", []*Certificate{p.leaf, p.inter}, VerifyOptions{Now: t0}},
		{"chain ending with the root", []*Certificate{p.leaf, p.inter, p.root}, VerifyOptions{Now: t0}},
		{"chain ending with a renewed copy of the root (same name and key)", []*Certificate{p.leaf, p.inter, rootCopy}, VerifyOptions{Now: t0}},
		{"leaf issued by the root", []*Certificate{direct}, VerifyOptions{Now: t0}},
		{"at NotBefore exactly", []*Certificate{p.leaf, p.inter}, VerifyOptions{Now: p.leaf.NotBefore}},
		{"at NotAfter exactly", []*Certificate{p.leaf, p.inter}, VerifyOptions{Now: p.leaf.NotAfter}},
		{"required key usages", []*Certificate{p.leaf, p.inter}, VerifyOptions{Now: t0, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}},
		{"DNS name", []*Certificate{p.leaf, p.inter}, VerifyOptions{Now: t0, DNSName: "NODE1.example.com."}},
		{"DNS wildcard", []*Certificate{p.leaf, p.inter}, VerifyOptions{Now: t0, DNSName: "db.svc.example.com"}},
		{"SPIFFE URI", []*Certificate{p.leaf, p.inter}, VerifyOptions{Now: t0, URI: "spiffe://example.com/node/1"}},
		{"IP", []*Certificate{p.leaf, p.inter}, VerifyOptions{Now: t0, IP: net.ParseIP("fd00::1")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, err := p.store().Verify(tc.chain, tc.opts)
			require.NoError(t, err)
			assert.Same(t, tc.chain[0], path[0])
			assert.Same(t, p.root, path[len(path)-1], "the path ends with the store's root")
		})
	}
}

// One case per rejection rule. Each names the certificate that must be blamed.
func TestVerifyRejects(t *testing.T) {
	p := newTestPKI(t)
	otherRootKey := testKey(t, "other root")
	otherRoot, err := NewRoot(caTemplate("Test Root", t0.Add(-day), t0.Add(3650*day)), otherRootKey, nil)
	require.NoError(t, err)

	// Certificates that outlive their issuers (Issue refuses to make them).
	outlivesInter := forge(t, leafTemplate("outlives", t0.Add(-day), p.inter.NotAfter.Add(100*day)), p.leafKey.Public(), p.inter, p.interKey, nil)
	shortRoot, err := NewRoot(caTemplate("Short Root", t0.Add(-10*day), t0.Add(10*day)), p.rootKey, nil)
	require.NoError(t, err)
	shortInter := forge(t, caTemplate("Short Intermediate", t0.Add(-5*day), t0.Add(100*day)), p.interKey.Public(), shortRoot, p.rootKey, nil)
	shortLeaf := forge(t, leafTemplate("short leaf", t0.Add(-day), t0.Add(50*day)), p.leafKey.Public(), shortInter, p.interKey, nil)
	// A leaf that tries to act as a CA.
	leafIssued := forge(t, leafTemplate("under a leaf", t0.Add(-day), t0.Add(day)), testKey(t, "x").Public(), p.leaf, p.leafKey, nil)
	// A root with pathLen 0 and an intermediate under it.
	pl0Key := testKey(t, "pl0")
	pl0Tmpl := caTemplate("PL0 Root", t0.Add(-day), t0.Add(100*day))
	pl0Tmpl.MaxPathLenZero = true
	pl0Root, err := NewRoot(pl0Tmpl, pl0Key, nil)
	require.NoError(t, err)
	pl0Inter := forge(t, caTemplate("PL0 Intermediate", t0.Add(-day), t0.Add(50*day)), p.interKey.Public(), pl0Root, pl0Key, nil)
	pl0Leaf, err := Issue(leafTemplate("pl0 leaf", t0.Add(-day), t0.Add(day)), p.leafKey.Public(), pl0Inter, p.interKey, nil)
	require.NoError(t, err)
	// An intermediate without keyUsage certSign.
	noSignTmpl := caTemplate("No certSign", t0.Add(-day), t0.Add(50*day))
	noSignTmpl.KeyUsage = x509.KeyUsageDigitalSignature
	noSign := forge(t, noSignTmpl, p.interKey.Public(), p.root, p.rootKey, nil)
	noSignLeaf := forge(t, leafTemplate("nosign leaf", t0.Add(-day), t0.Add(day)), p.leafKey.Public(), noSign, p.interKey, nil)
	// Tampering.
	tamperedTBS, err := ParseCertificate(flip(p.leaf.Raw, bytesIndex(t, p.leaf.Raw, []byte("node1"))), testSchemes)
	require.NoError(t, err)
	tamperedSig, err := ParseCertificate(flip(p.leaf.Raw, len(p.leaf.Raw)-1), testSchemes)
	require.NoError(t, err)
	// A leaf naming the intermediate as issuer but signed by another key.
	wrongKey := forge(t, leafTemplate("forged", t0.Add(-day), t0.Add(day)), p.leafKey.Public(), p.inter, testKey(t, "attacker"), nil)
	// An intermediate with the right name but another key: AKI/SKI differ.
	twin, err := Issue(caTemplate("Test Intermediate", t0.Add(-day), t0.Add(100*day)), testKey(t, "twin").Public(), p.root, p.rootKey, nil)
	require.NoError(t, err)
	// An unknown critical extension.
	critical := forge(t, leafTemplate("critical", t0.Add(-day), t0.Add(day)), p.leafKey.Public(), p.inter, p.interKey, func(tbs *tbsCertificate) {
		tbs.Extensions = append(tbs.Extensions, pkixExtension(oidAlt, true, []byte{5, 0}))
	})
	serverOnlyTmpl := leafTemplate("server only", t0.Add(-day), t0.Add(day))
	serverOnlyTmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	serverOnly, err := Issue(serverOnlyTmpl, p.leafKey.Public(), p.inter, p.interKey, nil)
	require.NoError(t, err)
	// Name constraints.
	ncTmpl := caTemplate("Constrained", t0.Add(-day), t0.Add(100*day))
	ncTmpl.NameConstraints = NameConstraints{PermittedDNSDomains: []string{"prod.example.com"}}
	nc, err := Issue(ncTmpl, p.interKey.Public(), p.root, p.rootKey, nil)
	require.NoError(t, err)
	// Issue refuses it; a CA that does not check (create skips the check)
	// makes it for the verifier to refuse.
	_, err = Issue(leafTemplate("outside", t0.Add(-day), t0.Add(day)), p.leafKey.Public(), nc, p.interKey, nil)
	require.ErrorIs(t, err, ErrNameConstraint)
	outside, err := create(leafTemplate("outside", t0.Add(-day), t0.Add(day)), p.leafKey.Public(), nc, p.interKey, nil)
	require.NoError(t, err)

	// extKeyUsage holding only an OID crypto/x509 does not know (SSH client,
	// RFC 6187): present, so it restricts, and it does not allow TLS usages.
	unknownEKU := func(tbs *tbsCertificate) {
		der, err := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 21}})
		require.NoError(t, err)
		tbs.Extensions = append(tbs.Extensions, pkixExtension(oidExtExtKeyUsage, false, der))
	}
	sshOnlyTmpl := leafTemplate("ssh only", t0.Add(-day), t0.Add(day))
	sshOnlyTmpl.ExtKeyUsage = []x509.ExtKeyUsage{}
	sshOnly := forge(t, sshOnlyTmpl, p.leafKey.Public(), p.inter, p.interKey, unknownEKU)
	sshCA := forge(t, caTemplate("SSH CA", t0.Add(-day), t0.Add(100*day)), p.interKey.Public(), p.root, p.rootKey, unknownEKU)
	underSSHCA, err := Issue(leafTemplate("under ssh ca", t0.Add(-day), t0.Add(day)), p.leafKey.Public(), sshCA, p.interKey, nil)
	require.NoError(t, err)
	// A copy of the leaf that ParseCertificate did not make: its extensions
	// were never decoded, so nothing about them can be vouched for.
	unparsed := *p.leaf
	unparsed.x509 = nil

	revokedLeafStore := p.store()
	require.NoError(t, revokedLeafStore.AddRevocationList(mustList(t, p.inter, p.interKey, 1, RevokeCertificate(p.leaf, p.inter, t0, "key compromise")), []*Certificate{p.inter}, t0))
	revokedInterStore := p.store()
	require.NoError(t, revokedInterStore.AddRevocationList(mustList(t, p.root, p.rootKey, 1, RevokeCertificate(p.inter, nil, t0, "retired")), nil, t0))

	for _, tc := range []struct {
		name    string
		store   *TrustStore
		chain   []*Certificate
		opts    VerifyOptions
		wantErr error
		index   int
	}{
		{"expired", nil, []*Certificate{p.leaf, p.inter}, VerifyOptions{Now: p.leaf.NotAfter.Add(time.Second)}, ErrExpired, 0},
		{"expired intermediate", nil, []*Certificate{outlivesInter, p.inter}, VerifyOptions{Now: p.inter.NotAfter.Add(time.Second)}, ErrExpired, 1},
		{"expired root", NewTrustStore(shortRoot), []*Certificate{shortLeaf, shortInter}, VerifyOptions{Now: shortRoot.NotAfter.Add(time.Second)}, ErrExpired, 2},
		{"not yet valid", nil, []*Certificate{p.leaf, p.inter}, VerifyOptions{Now: p.leaf.NotBefore.Add(-time.Second)}, ErrNotYetValid, 0},
		{"leaf used as issuer", nil, []*Certificate{leafIssued, p.leaf, p.inter}, VerifyOptions{Now: t0}, ErrNotCA, 1},
		{"pathLen exceeded", NewTrustStore(pl0Root), []*Certificate{pl0Leaf, pl0Inter}, VerifyOptions{Now: t0}, ErrPathLen, 2},
		{"issuer without certSign", nil, []*Certificate{noSignLeaf, noSign}, VerifyOptions{Now: t0}, ErrNotCA, 1},
		{"wrong root", NewTrustStore(otherRoot), []*Certificate{p.leaf, p.inter}, VerifyOptions{Now: t0}, ErrUnknownAuthority, 1},
		{"wrong root, chain carrying its own root", NewTrustStore(otherRoot), []*Certificate{p.leaf, p.inter, p.root}, VerifyOptions{Now: t0}, ErrUnknownAuthority, 2},
		{"empty trust store", NewTrustStore(), []*Certificate{p.leaf, p.inter}, VerifyOptions{Now: t0}, ErrUnknownAuthority, 1},
		{"tampered TBS", nil, []*Certificate{tamperedTBS, p.inter}, VerifyOptions{Now: t0}, ErrBadSignature, 0},
		{"tampered signature", nil, []*Certificate{tamperedSig, p.inter}, VerifyOptions{Now: t0}, ErrBadSignature, 0},
		{"signature by a different key", nil, []*Certificate{wrongKey, p.inter}, VerifyOptions{Now: t0}, ErrBadSignature, 0},
		{"intermediate with the right name but another key", nil, []*Certificate{p.leaf, twin}, VerifyOptions{Now: t0}, ErrIssuerMismatch, 0},
		{"next certificate is not the issuer", nil, []*Certificate{p.leaf, nc}, VerifyOptions{Now: t0}, ErrIssuerMismatch, 0},
		{"intermediates out of order", nil, []*Certificate{p.inter, p.leaf}, VerifyOptions{Now: t0}, ErrUnknownAuthority, 1},
		{"revoked leaf", revokedLeafStore, []*Certificate{p.leaf, p.inter}, VerifyOptions{Now: t0}, ErrRevoked, 0},
		{"revoked intermediate", revokedInterStore, []*Certificate{p.leaf, p.inter}, VerifyOptions{Now: t0}, ErrRevoked, 1},
		{"unhandled critical extension", nil, []*Certificate{critical, p.inter}, VerifyOptions{Now: t0}, ErrUnhandledCritical, 0},
		{"missing extended key usage", nil, []*Certificate{serverOnly, p.inter}, VerifyOptions{Now: t0, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, ErrKeyUsage, 0},
		{"DNS name not in the leaf", nil, []*Certificate{p.leaf, p.inter}, VerifyOptions{Now: t0, DNSName: "node2.example.com"}, ErrNameMismatch, 0},
		{"wildcard covers one label only", nil, []*Certificate{p.leaf, p.inter}, VerifyOptions{Now: t0, DNSName: "a.b.svc.example.com"}, ErrNameMismatch, 0},
		{"URI not in the leaf", nil, []*Certificate{p.leaf, p.inter}, VerifyOptions{Now: t0, URI: "spiffe://example.com/node/2"}, ErrNameMismatch, 0},
		{"IP not in the leaf", nil, []*Certificate{p.leaf, p.inter}, VerifyOptions{Now: t0, IP: net.ParseIP("10.0.0.2")}, ErrNameMismatch, 0},
		{"name outside the issuer's constraints", nil, []*Certificate{outside, nc}, VerifyOptions{Now: t0}, ErrNameConstraint, 0},
		{"leaf restricted to an extended key usage crypto/x509 does not know", nil, []*Certificate{sshOnly, p.inter}, VerifyOptions{Now: t0, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, ErrKeyUsage, 0},
		{"CA restricted to an extended key usage crypto/x509 does not know", nil, []*Certificate{underSSHCA, sshCA}, VerifyOptions{Now: t0, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, ErrKeyUsage, 1},
		{"certificate not made by ParseCertificate", nil, []*Certificate{&unparsed, p.inter}, VerifyOptions{Now: t0}, ErrUnhandledCritical, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := tc.store
			if store == nil {
				store = p.store()
			}
			path, err := store.Verify(tc.chain, tc.opts)
			require.ErrorIs(t, err, tc.wantErr)
			require.ErrorIs(t, err, core.ErrVerification)
			assert.Nil(t, path)
			var ce *CertificateError
			require.True(t, errors.As(err, &ce), "error %v is not a *CertificateError", err)
			assert.Equal(t, tc.index, ce.Index, "blamed certificate: %v", err)
			assert.Contains(t, err.Error(), ce.Subject)
		})
	}
}

func TestVerifyRejectsChainLength(t *testing.T) {
	p := newTestPKI(t)
	_, err := p.store().Verify(nil, VerifyOptions{Now: t0})
	require.ErrorIs(t, err, core.ErrInvalidInput)
	long := []*Certificate{p.leaf}
	for len(long) <= MaxChainLength {
		long = append(long, p.inter)
	}
	_, err = p.store().Verify(long, VerifyOptions{Now: t0})
	require.ErrorIs(t, err, core.ErrInvalidInput)
	ders := make([][]byte, MaxChainLength+1)
	for i := range ders {
		ders[i] = p.inter.Raw
	}
	_, err = p.store().ParseChain(ders, testSchemes)
	require.ErrorIs(t, err, core.ErrInvalidInput)
	_, err = p.store().ParseChain(nil, testSchemes)
	require.ErrorIs(t, err, core.ErrInvalidInput)
}

func TestVerifyErrorNamesCertificateAndReason(t *testing.T) {
	p := newTestPKI(t)
	_, err := p.store().Verify([]*Certificate{p.leaf, p.inter}, VerifyOptions{Now: t0.Add(100 * day)})
	require.Error(t, err)
	assert.Regexp(t, `^certificate 0 \(CN=node1\): certificate expired: verification failed: valid until 2030-08-30T12:00:00Z, now 2030-09-09T12:00:00Z$`, err.Error())
}

func TestNameConstraints(t *testing.T) {
	p := newTestPKI(t)
	mustCIDR := func(s string) *net.IPNet {
		_, n, err := net.ParseCIDR(s)
		require.NoError(t, err)
		return n
	}
	for _, tc := range []struct {
		name    string
		nc      NameConstraints
		wantErr error
	}{
		{"permitted DNS domain covers subdomains", NameConstraints{PermittedDNSDomains: []string{"example.com"}}, nil},
		{"leading dot: subdomains only", NameConstraints{PermittedDNSDomains: []string{".example.com"}}, nil},
		{"excluded DNS subtree", NameConstraints{ExcludedDNSDomains: []string{"svc.example.com"}}, ErrNameConstraint},
		{"DNS not permitted", NameConstraints{PermittedDNSDomains: []string{"example.org"}}, ErrNameConstraint},
		{"SPIFFE trust domain permitted", NameConstraints{PermittedURIDomains: []string{"example.com"}}, nil},
		{"SPIFFE trust domain not permitted", NameConstraints{PermittedURIDomains: []string{"other.org"}}, ErrNameConstraint},
		{"excluded URI domain", NameConstraints{ExcludedURIDomains: []string{"example.com"}}, ErrNameConstraint},
		{"permitted IP ranges", NameConstraints{PermittedIPRanges: []*net.IPNet{mustCIDR("10.0.0.0/8"), mustCIDR("fd00::/8")}}, nil},
		{"IP outside the permitted ranges", NameConstraints{PermittedIPRanges: []*net.IPNet{mustCIDR("10.0.0.0/8")}}, ErrNameConstraint},
		{"excluded IP range", NameConstraints{ExcludedIPRanges: []*net.IPNet{mustCIDR("10.0.0.0/24")}}, ErrNameConstraint},
		// The leaf carries "*.svc.example.com", which stands for db.svc.example.com.
		{"excluded subdomain covered by a wildcard", NameConstraints{ExcludedDNSDomains: []string{"db.svc.example.com"}}, ErrNameConstraint},
		{"excluded subdomain covered by a wildcard, any case", NameConstraints{ExcludedDNSDomains: []string{"DB.Svc.Example.com"}}, ErrNameConstraint},
		{"excluded name two labels below a wildcard", NameConstraints{ExcludedDNSDomains: []string{"a.db.svc.example.com"}}, nil},
		{"excluded subdomains-only constraint below a wildcard", NameConstraints{ExcludedDNSDomains: []string{".db.svc.example.com"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := caTemplate("Constrained", t0.Add(-day), t0.Add(100*day))
			tmpl.NameConstraints = tc.nc
			ca, err := Issue(tmpl, p.interKey.Public(), p.root, p.rootKey, nil)
			require.NoError(t, err)
			leaf, err := Issue(leafTemplate("n", t0.Add(-day), t0.Add(day)), p.leafKey.Public(), ca, p.interKey, nil)
			if tc.wantErr != nil {
				// Issue refuses the names; a CA that does not check
				// (create skips the check) makes the certificate, and
				// verification refuses it.
				require.ErrorIs(t, err, tc.wantErr)
				leaf, err = create(leafTemplate("n", t0.Add(-day), t0.Add(day)), p.leafKey.Public(), ca, p.interKey, nil)
			}
			require.NoError(t, err)
			_, err = p.store().Verify([]*Certificate{leaf, ca}, VerifyOptions{Now: t0})
			if tc.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.wantErr)
		})
	}
}

// A failed check must stop before any signature is verified, so junk chains
// cost no public-key work.
func TestVerifyChecksCheapRulesBeforeSignatures(t *testing.T) {
	p := newTestPKI(t)
	counting := &countingKey{PublicKey: p.inter.PublicKey}
	inter := *p.inter
	inter.PublicKey = counting
	_, err := p.store().Verify([]*Certificate{p.leaf, &inter}, VerifyOptions{Now: t0, DNSName: "nope.example.com"})
	require.ErrorIs(t, err, ErrNameMismatch)
	assert.Zero(t, counting.calls)
	_, err = p.store().Verify([]*Certificate{p.leaf, &inter}, VerifyOptions{Now: t0})
	require.NoError(t, err)
	assert.Equal(t, 1, counting.calls)
}

type countingKey struct {
	core.PublicKey
	calls int
}

func (k *countingKey) Verify(msg, ctx, sig []byte) bool {
	k.calls++
	return k.PublicKey.Verify(msg, ctx, sig)
}

func bytesIndex(t *testing.T, b, sub []byte) int {
	t.Helper()
	for i := range len(b) - len(sub) + 1 {
		if string(b[i:i+len(sub)]) == string(sub) {
			return i
		}
	}
	t.Fatalf("%q not found", sub)
	return -1
}

// RFC 5280 4.2: a critical extension the verifier does not process fails the
// chain. crypto/x509 decodes the policy extensions and CRL distribution
// points, but this package enforces none of them, so critical ones must fail.
func TestVerifyRejectsCriticalExtensionsItDoesNotProcess(t *testing.T) {
	p := newTestPKI(t)
	policy := asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 55555, 2}
	marshal := func(v any) []byte {
		der, err := asn1.Marshal(v)
		require.NoError(t, err)
		return der
	}
	type policyInformation struct{ ID asn1.ObjectIdentifier }
	type policyMapping struct{ IssuerPolicy, SubjectPolicy asn1.ObjectIdentifier }
	type policyConstraints struct {
		RequireExplicitPolicy int `asn1:"optional,tag:0"`
	}
	type distributionPoint struct{ Name asn1.RawValue }
	uri := asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: tagURI, Bytes: []byte("http://crl.example.com/ca.crl")}
	fullName := asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: marshal(uri)}
	dpName := asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: marshal(fullName)}
	for _, tc := range []struct {
		name  string
		id    asn1.ObjectIdentifier
		value []byte
	}{
		{"certificate policies", asn1.ObjectIdentifier{2, 5, 29, 32}, marshal([]policyInformation{{policy}})},
		{"policy mappings", asn1.ObjectIdentifier{2, 5, 29, 33}, marshal([]policyMapping{{policy, policy}})},
		{"policy constraints", asn1.ObjectIdentifier{2, 5, 29, 36}, marshal(policyConstraints{RequireExplicitPolicy: 0})},
		{"inhibit anyPolicy", asn1.ObjectIdentifier{2, 5, 29, 54}, marshal(0)},
		{"CRL distribution points", asn1.ObjectIdentifier{2, 5, 29, 31}, marshal([]distributionPoint{{Name: dpName}})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addExt := func(critical bool) func(*tbsCertificate) {
				return func(tbs *tbsCertificate) {
					tbs.Extensions = append(tbs.Extensions, pkixExtension(tc.id, critical, tc.value))
				}
			}
			xc, err := x509.ParseCertificate(forgeDER(t, caTemplate("x", t0, t0.Add(day)), p.interKey.Public(), p.root, p.rootKey, addExt(true)))
			require.NoError(t, err)
			require.Empty(t, xc.UnhandledCriticalExtensions, "crypto/x509 claims this extension, so only this package can refuse it")

			ca := forge(t, caTemplate("Policy CA", t0.Add(-day), t0.Add(100*day)), p.interKey.Public(), p.root, p.rootKey, addExt(true))
			leaf, err := Issue(leafTemplate("n", t0.Add(-day), t0.Add(day)), p.leafKey.Public(), ca, p.interKey, nil)
			require.NoError(t, err)
			_, err = p.store().Verify([]*Certificate{leaf, ca}, VerifyOptions{Now: t0})
			require.ErrorIs(t, err, ErrUnhandledCritical)
			var ce *CertificateError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, 1, ce.Index)

			nonCritical := forge(t, caTemplate("Policy CA", t0.Add(-day), t0.Add(100*day)), p.interKey.Public(), p.root, p.rootKey, addExt(false))
			leaf, err = Issue(leafTemplate("n", t0.Add(-day), t0.Add(day)), p.leafKey.Public(), nonCritical, p.interKey, nil)
			require.NoError(t, err)
			_, err = p.store().Verify([]*Certificate{leaf, nonCritical}, VerifyOptions{Now: t0})
			require.NoError(t, err, "the same extension, non-critical, may be ignored")
		})
	}
}
