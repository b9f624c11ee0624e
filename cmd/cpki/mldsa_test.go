package main

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/snowmerak/clustering/adapters/pqc"
	"github.com/snowmerak/clustering/cmd/internal/cliutil"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/pki"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pki with real ML-DSA (adapters/pqc): cross-checks against RFC 9881's own
// examples, which another implementation made.

// rfcSeed is the seed of RFC 9881's example keys: 00 01 02 ... 1f.
func rfcSeed() []byte {
	seed := make([]byte, 32)
	for i := range seed {
		seed[i] = byte(i)
	}
	return seed
}

func TestRFC9881ExampleCertificates(t *testing.T) {
	for _, tc := range []struct {
		file   string
		scheme core.SignatureScheme
	}{
		{"ML-DSA-44.crt", pqc.MLDSA44},
		{"ML-DSA-65.crt", pqc.MLDSA65},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "rfc9881", tc.file))
			require.NoError(t, err)
			certs, err := pki.ParseCertificatesPEM(data, cliutil.Schemes())
			require.NoError(t, err)
			require.Len(t, certs, 1)
			c := certs[0]
			key, err := tc.scheme.NewKeyFromSeed(rfcSeed())
			require.NoError(t, err)
			assert.Equal(t, key.Public().Bytes(), c.PublicKey.Bytes(), "the key is derived from the RFC's seed")
			assert.Equal(t, tc.scheme.Name(), c.SignatureScheme.Name())
			assert.True(t, c.IsCA)
			assert.Equal(t, x509.KeyUsageCertSign|x509.KeyUsageCRLSign, c.KeyUsage)
			require.True(t, c.IsSelfSigned(), "the RFC's signature verifies")
			_, err = pki.NewTrustStore(c).Verify([]*pki.Certificate{c}, pki.VerifyOptions{Now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)})
			require.NoError(t, err)

			tampered, err := pki.ParseCertificate(flipped(c.Raw, len(c.Raw)-40), cliutil.Schemes())
			require.NoError(t, err)
			assert.False(t, tampered.IsSelfSigned())
		})
	}
}

func flipped(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 1
	return c
}

// Private keys are byte for byte RFC 9881's seed form (its Appendix C keys).
func TestPrivateKeyIsRFC9881SeedForm(t *testing.T) {
	for i, s := range []core.SignatureScheme{pqc.MLDSA44, pqc.MLDSA65, pqc.MLDSA87} {
		key, err := s.NewKeyFromSeed(rfcSeed())
		require.NoError(t, err)
		der, err := pki.MarshalPrivateKey(key)
		require.NoError(t, err)
		want := append([]byte{0x30, 0x34, 0x02, 0x01, 0x00, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, byte(0x11 + i),
			0x04, 0x22, 0x80, 0x20}, rfcSeed()...)
		assert.Equal(t, want, der, s.Name())
		back, err := pki.ParsePrivateKey(der, cliutil.Schemes())
		require.NoError(t, err)
		assert.Equal(t, key.Public().Bytes(), back.Public().Bytes())
	}
}

// Every ML-DSA certificate the library makes parses with crypto/x509, with
// the RFC 9881 sizes.
func TestMLDSACertificatesParseWithCryptoX509(t *testing.T) {
	now := time.Now()
	for _, s := range []core.SignatureScheme{pqc.MLDSA44, pqc.MLDSA65, pqc.MLDSA87} {
		key, err := s.GenerateKey(nil)
		require.NoError(t, err)
		c, err := pki.NewRoot(pki.Template{Subject: pkix.Name{CommonName: s.Name()}, NotBefore: now, NotAfter: now.Add(time.Hour)}, key, nil)
		require.NoError(t, err)
		xc, err := x509.ParseCertificate(c.Raw)
		require.NoError(t, err)
		assert.True(t, xc.IsCA)
		assert.Equal(t, s.OID().String(), "2.16.840.1.101.3.4.3."+map[string]string{"ML-DSA-44": "17", "ML-DSA-65": "18", "ML-DSA-87": "19"}[s.Name()])
		assert.Len(t, c.PublicKey.Bytes(), s.PublicKeySize())
		assert.Len(t, c.Signature, s.SignatureSize())
	}
}

// BenchmarkVerifyChainMLDSA65 verifies a leaf → intermediate → root chain
// of ML-DSA-65 certificates. Each iteration also times, right next to
// Verify, the two signature verifications the chain needs; "x-sigs" is the
// median over iterations of Verify's time over theirs, and the goal is ≤ 1.2
// (the benchmark fails above that). It runs with the signature memo off and
// one P, so it measures first-contact work rather than cached or parallel wall time.
func BenchmarkVerifyChainMLDSA65(b *testing.B) {
	now := time.Now()
	s := pqc.MLDSA65
	rootKey, _ := s.GenerateKey(nil)
	interKey, _ := s.GenerateKey(nil)
	leafKey, _ := s.GenerateKey(nil)
	root, err := pki.NewRoot(pki.Template{Subject: pkix.Name{CommonName: "Root"}, NotBefore: now, NotAfter: now.Add(time.Hour)}, rootKey, nil)
	if err != nil {
		b.Fatal(err)
	}
	inter, err := pki.Issue(pki.Template{Subject: pkix.Name{CommonName: "Inter"}, IsCA: true, NotBefore: now, NotAfter: now.Add(time.Hour)}, interKey.Public(), root, rootKey, nil)
	if err != nil {
		b.Fatal(err)
	}
	leaf, err := pki.Issue(pki.Template{Subject: pkix.Name{CommonName: "Leaf"}, NotBefore: now, NotAfter: now.Add(time.Hour)}, leafKey.Public(), inter, interKey, nil)
	if err != nil {
		b.Fatal(err)
	}
	ts := pki.NewTrustStore(root)
	// First contact: no remembered signatures, so Verify does every check.
	ts.SetSignatureMemoSize(0)
	// Verify checks a chain's signatures on parallel goroutines; one P makes
	// the comparison one of work (the goal: chain logic costs ≤ 20% over the
	// signature checks), not of how many cores the machine lends.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	// The chain as a peer sends it, parsed through the store as a node would.
	chain, err := ts.ParseChain([][]byte{leaf.Raw, inter.Raw}, cliutil.Schemes())
	if err != nil {
		b.Fatal(err)
	}
	opts := pki.VerifyOptions{Now: now.Add(time.Minute), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	checkSigs := func() {
		if chain[0].CheckSignatureFrom(chain[1]) != nil || chain[1].CheckSignatureFrom(root) != nil {
			b.Fatal("signature")
		}
	}
	verifyChain := func() {
		if _, err := ts.Verify(chain, opts); err != nil {
			b.Fatal(err)
		}
	}
	var sigs, verify time.Duration
	var ratios []float64
	for i := 0; b.Loop(); i++ {
		// Alternate which runs first so that neither always has a warm cache.
		first, second := checkSigs, verifyChain
		if i%2 == 1 {
			first, second = verifyChain, checkSigs
		}
		t1 := time.Now()
		first()
		t2 := time.Now()
		second()
		d1, d2 := t2.Sub(t1), time.Since(t2)
		if i%2 == 1 {
			d1, d2 = d2, d1
		}
		sigs += d1
		verify += d2
		ratios = append(ratios, float64(d2)/float64(d1))
	}
	slices.Sort(ratios)
	ratio := ratios[len(ratios)/2]
	b.ReportMetric(float64(sigs.Nanoseconds())/float64(b.N), "sigs-ns/op")
	b.ReportMetric(float64(verify.Nanoseconds())/float64(b.N), "verify-ns/op")
	b.ReportMetric(ratio, "x-sigs")
	if b.N >= 100 && ratio > 1.2 {
		b.Errorf("chain verification costs %.2f× its signature verifications, want ≤ 1.2", ratio)
	}
}
