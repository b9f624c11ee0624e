package pki

import (
	"crypto/x509"
	"encoding/asn1"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/snowmerak/clustering/core"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRevocationListRoundTrip(t *testing.T) {
	p := newTestPKI(t)
	entries := []RevocationEntry{
		RevokeCertificate(p.leaf, p.inter, t0, "key compromise"),
		{Issuer: p.inter.NodeID(), SerialNumber: big.NewInt(42), RevokedAt: t0},
		{Fingerprint: [32]byte{1, 2, 3}, RevokedAt: t0, Reason: "lost"},
	}
	rl := mustList(t, p.inter, p.interKey, 7, entries...)
	data := EncodeRevocationListPEM(rl, p.inter)
	got, chain, err := ParseRevocationListPEM(data, testSchemes)
	require.NoError(t, err)
	require.Len(t, chain, 1)
	assert.Equal(t, p.inter.Raw, chain[0].Raw)
	assert.Equal(t, int64(7), got.Number)
	assert.Equal(t, p.inter.NodeID(), got.Signer)
	assert.Equal(t, t0, got.ThisUpdate)
	require.Len(t, got.Entries, 3)
	assert.Equal(t, p.leaf.Fingerprint(), got.Entries[0].Fingerprint)
	assert.Equal(t, 0, p.leaf.SerialNumber.Cmp(got.Entries[0].SerialNumber))
	assert.Equal(t, "key compromise", got.Entries[0].Reason)
	assert.Equal(t, int64(42), got.Entries[1].SerialNumber.Int64())
	assert.Equal(t, [32]byte{}, got.Entries[1].Fingerprint)
	assert.Nil(t, got.Entries[2].SerialNumber)
	require.NoError(t, got.CheckSignatureFrom(p.inter))
}

func TestRevocationListSignatureChecks(t *testing.T) {
	p := newTestPKI(t)
	rl := mustList(t, p.inter, p.interKey, 1, RevokeCertificate(p.leaf, p.inter, t0, ""))

	t.Run("another signer", func(t *testing.T) {
		require.ErrorIs(t, rl.CheckSignatureFrom(p.root), ErrIssuerMismatch)
	})
	t.Run("tampered list", func(t *testing.T) {
		fp := p.leaf.Fingerprint()
		tampered, err := ParseRevocationList(flip(rl.Raw, bytesIndex(t, rl.Raw, fp[:4])), testSchemes)
		require.NoError(t, err)
		require.ErrorIs(t, tampered.CheckSignatureFrom(p.inter), ErrBadSignature)
	})
	t.Run("signature made without the revocation context", func(t *testing.T) {
		// A CA signature over the same bytes in the certificate domain (empty
		// context) must not pass for a revocation list.
		der, err := sign(rl.rawTBS, p.interKey, nil)
		require.NoError(t, err)
		replayed, err := ParseRevocationList(der, testSchemes)
		require.NoError(t, err)
		require.ErrorIs(t, replayed.CheckSignatureFrom(p.inter), ErrBadSignature)
	})
}

func TestCreateRevocationListRefuses(t *testing.T) {
	p := newTestPKI(t)
	valid := RevokeCertificate(p.leaf, p.inter, t0, "")
	for _, tc := range []struct {
		name    string
		signer  *Certificate
		key     core.Signer
		entry   RevocationEntry
		wantErr error
	}{
		{"signer is not a CA", p.leaf, p.leafKey, valid, ErrNotCA},
		{"key does not match the signer", p.inter, p.rootKey, valid, ErrKeyMismatch},
		{"serial without issuer", p.inter, p.interKey, RevocationEntry{SerialNumber: big.NewInt(1)}, core.ErrInvalidInput},
		{"issuer without serial", p.inter, p.interKey, RevocationEntry{Issuer: p.inter.NodeID()}, core.ErrInvalidInput},
		{"empty entry", p.inter, p.interKey, RevocationEntry{}, core.ErrInvalidInput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CreateRevocationList(1, t0, []RevocationEntry{tc.entry}, tc.signer, tc.key)
			require.ErrorIs(t, err, tc.wantErr)
		})
	}
}

func TestAddRevocationList(t *testing.T) {
	p := newTestPKI(t)
	entry := RevokeCertificate(p.leaf, p.inter, t0, "")
	noCRLTmpl := caTemplate("No cRLSign", t0.Add(-day), t0.Add(100*day))
	noCRLKey := testKey(t, "nocrl")
	noCRL, err := Issue(noCRLTmpl, noCRLKey.Public(), p.root, p.rootKey, nil)
	require.NoError(t, err)
	noCRLList := mustList(t, noCRL, noCRLKey, 1, entry)
	// Strip cRLSign from a copy: signing checks it, so forge the certificate.
	noCRLTmpl.KeyUsage = x509.KeyUsageCertSign
	noCRLCert := forge(t, noCRLTmpl, noCRLKey.Public(), p.root, p.rootKey, nil)
	otherRootKey := testKey(t, "other root")
	otherRoot, err := NewRoot(caTemplate("Other Root", t0.Add(-day), t0.Add(100*day)), otherRootKey, nil)
	require.NoError(t, err)

	for _, tc := range []struct {
		name    string
		list    *RevocationList
		chain   []*Certificate
		wantErr error
	}{
		{"signed by the root", mustList(t, p.root, p.rootKey, 1, entry), nil, nil},
		{"signed by an intermediate with its chain", mustList(t, p.inter, p.interKey, 1, entry), []*Certificate{p.inter}, nil},
		{"signed by an intermediate without its chain", mustList(t, p.inter, p.interKey, 1, entry), nil, ErrUnknownAuthority},
		{"signed by an untrusted root", mustList(t, otherRoot, otherRootKey, 1, entry), []*Certificate{otherRoot}, ErrUnknownAuthority},
		{"signer certificate without cRLSign", noCRLList, []*Certificate{noCRLCert}, ErrNotCA},
		{"chain whose first certificate is not the signer", mustList(t, p.inter, p.interKey, 1, entry), []*Certificate{noCRL}, ErrUnknownAuthority},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := p.store().AddRevocationList(tc.list, tc.chain, t0)
			if tc.wantErr == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.wantErr)
		})
	}
}

func TestRevocationListsCannotBeRolledBack(t *testing.T) {
	p := newTestPKI(t)
	ts := p.store()
	v1 := mustList(t, p.root, p.rootKey, 1)
	v2 := mustList(t, p.root, p.rootKey, 2, RevokeCertificate(p.leaf, p.inter, t0, ""))
	require.NoError(t, ts.AddRevocationList(v1, nil, t0))
	require.NoError(t, ts.AddRevocationList(v2, nil, t0))
	require.NoError(t, ts.AddRevocationList(v2, nil, t0), "re-adding the same list is harmless")
	require.ErrorIs(t, ts.AddRevocationList(v1, nil, t0), core.ErrConflict)
	v2b := mustList(t, p.root, p.rootKey, 2)
	require.ErrorIs(t, ts.AddRevocationList(v2b, nil, t0), core.ErrConflict, "same number, other content")
	_, err := ts.Verify([]*Certificate{p.leaf, p.inter}, VerifyOptions{Now: t0})
	require.ErrorIs(t, err, ErrRevoked)
	assert.Len(t, ts.RevocationLists(), 1)
}

// A list binds only certificates below its signer: one CA cannot revoke
// certificates of a sibling CA, even by fingerprint.
func TestRevocationIsScopedToTheSigner(t *testing.T) {
	p := newTestPKI(t)
	siblingKey := testKey(t, "sibling")
	sibling, err := Issue(caTemplate("Sibling", t0.Add(-day), t0.Add(100*day)), siblingKey.Public(), p.root, p.rootKey, nil)
	require.NoError(t, err)
	ts := p.store()
	require.NoError(t, ts.AddRevocationList(mustList(t, sibling, siblingKey, 1,
		RevokeCertificate(p.leaf, p.inter, t0, "not yours"), RevokeCertificate(p.inter, p.root, t0, "not yours")), []*Certificate{sibling}, t0))
	_, err = ts.Verify([]*Certificate{p.leaf, p.inter}, VerifyOptions{Now: t0})
	require.NoError(t, err)

	t.Run("by serial alone", func(t *testing.T) {
		ts := p.store()
		require.NoError(t, ts.AddRevocationList(mustList(t, p.inter, p.interKey, 1,
			RevocationEntry{Issuer: p.inter.NodeID(), SerialNumber: p.leaf.SerialNumber, RevokedAt: t0}), []*Certificate{p.inter}, t0))
		_, err := ts.Verify([]*Certificate{p.leaf, p.inter}, VerifyOptions{Now: t0})
		require.ErrorIs(t, err, ErrRevoked)
		require.True(t, strings.HasSuffix(err.Error(), "(list 1) at "+t0.Format(time.RFC3339)), "an entry without a reason ends at its date: %v", err)
	})
	t.Run("by fingerprint alone, from the root", func(t *testing.T) {
		ts := p.store()
		require.NoError(t, ts.AddRevocationList(mustList(t, p.root, p.rootKey, 1,
			RevocationEntry{Fingerprint: p.leaf.Fingerprint(), RevokedAt: t0}), nil, t0))
		_, err := ts.Verify([]*Certificate{p.leaf, p.inter}, VerifyOptions{Now: t0})
		require.ErrorIs(t, err, ErrRevoked)
	})
}

func TestParseRevocationListRejects(t *testing.T) {
	p := newTestPKI(t)
	rl := mustList(t, p.root, p.rootKey, 1, RevokeCertificate(p.leaf, p.inter, t0, ""))
	resign := func(mutate func(*tbsRevocationList)) []byte {
		var tbs tbsRevocationList
		_, err := asn1.Unmarshal(rl.rawTBS, &tbs)
		require.NoError(t, err)
		mutate(&tbs)
		der, err := asn1.Marshal(tbs)
		require.NoError(t, err)
		out, err := sign(der, p.rootKey, revocationContext)
		require.NoError(t, err)
		return out
	}
	for _, tc := range []struct {
		name    string
		der     []byte
		schemes []core.SignatureScheme
		wantErr error
	}{
		{"truncated", rl.Raw[:len(rl.Raw)-1], testSchemes, ErrMalformed},
		{"unknown algorithm", rl.Raw, []core.SignatureScheme{altScheme}, ErrUnknownAlgorithm},
		{"wrong version", resign(func(tbs *tbsRevocationList) { tbs.Version = 2 }), testSchemes, ErrMalformed},
		{"short signer", resign(func(tbs *tbsRevocationList) { tbs.Signer = tbs.Signer[:31] }), testSchemes, ErrMalformed},
		{"issuer without serial", resign(func(tbs *tbsRevocationList) { tbs.Entries[0].SerialNumber = nil }), testSchemes, ErrMalformed},
		{"short fingerprint", resign(func(tbs *tbsRevocationList) { tbs.Entries[0].Fingerprint = []byte{1} }), testSchemes, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRevocationList(tc.der, tc.schemes)
			require.ErrorIs(t, err, tc.wantErr)
		})
	}
	t.Run("certificate block first", func(t *testing.T) {
		_, _, err := ParseRevocationListPEM(append(EncodeCertificatesPEM(p.root), EncodeRevocationListPEM(rl)...), testSchemes)
		require.ErrorIs(t, err, ErrWrongPEMType)
	})
}
