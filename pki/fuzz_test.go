package pki

import (
	"bytes"
	"crypto/x509/pkix"
	"testing"

	"github.com/snowmerak/clustering/core"
)

// Parsers of untrusted bytes must never panic, and what they accept must
// survive a round trip unchanged.

var fuzzSchemes = []core.SignatureScheme{testSchemes[0], altScheme}

func FuzzParseCertificate(f *testing.F) {
	p := newTestPKI(f)
	for _, c := range []*Certificate{p.root, p.inter, p.leaf} {
		f.Add(c.Raw)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		c, err := ParseCertificate(der, fuzzSchemes)
		if err != nil {
			return
		}
		if !bytes.Equal(c.Raw, der) || c.PublicKey == nil || c.SignatureScheme == nil {
			t.Fatalf("accepted certificate lost bytes or fields")
		}
		if len(c.Signature) != c.SignatureScheme.SignatureSize() {
			t.Fatalf("signature of %d bytes accepted for %s", len(c.Signature), c.SignatureScheme.Name())
		}
	})
}

func FuzzParseCertificatesPEM(f *testing.F) {
	p := newTestPKI(f)
	f.Add(EncodeCertificatesPEM(p.leaf, p.inter))
	f.Add(EncodeCertificatesPEM(p.root))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		certs, err := ParseCertificatesPEM(data, fuzzSchemes)
		if err != nil {
			return
		}
		again, err := ParseCertificatesPEM(EncodeCertificatesPEM(certs...), fuzzSchemes)
		if err != nil || len(again) != len(certs) {
			t.Fatalf("re-encoded bundle does not parse: %v", err)
		}
		for i := range certs {
			if !bytes.Equal(certs[i].Raw, again[i].Raw) {
				t.Fatalf("certificate %d changed in a round trip", i)
			}
		}
	})
}

func FuzzParsePrivateKey(f *testing.F) {
	for _, k := range []core.Signer{testKey(f, "a"), altSigner{testKey(f, "b")}} {
		der, err := MarshalPrivateKey(k)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(der)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		k, err := ParsePrivateKey(der, fuzzSchemes)
		if err != nil {
			return
		}
		out, err := MarshalPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParsePrivateKey(out, fuzzSchemes)
		if err != nil || !bytes.Equal(back.Seed(), k.Seed()) {
			t.Fatalf("key does not round-trip: %v", err)
		}
	})
}

// FuzzParsePrivateKeyPEM covers both the plain and the encrypted form; the
// stand-in KDF is cheap, so the parameter bounds are what keeps hostile
// files from costing time in production.
func FuzzParsePrivateKeyPEM(f *testing.F) {
	key := testKey(f, "fuzz")
	kdf := &recordingKDF{}
	plain, err := EncodePrivateKeyPEM(key)
	if err != nil {
		f.Fatal(err)
	}
	enc, err := EncodeEncryptedPrivateKeyPEM(key, []byte("pw"), kdf.kdf, testScryptParams, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(plain)
	f.Add(enc)
	f.Fuzz(func(t *testing.T, data []byte) {
		k := &recordingKDF{}
		_, _ = ParsePrivateKeyPEM(data, fuzzSchemes, k.kdf, func() ([]byte, error) { return []byte("pw"), nil })
		if k.calls > 0 && !scryptWithinBounds(k.n, k.r, k.p) {
			t.Fatalf("scrypt called with N=%d r=%d p=%d beyond the bounds", k.n, k.r, k.p)
		}
	})
}

// FuzzDecryptPrivateKey mutates the DER of an encrypted key directly, where
// the PEM target's base64 hides the structure from the fuzzer.
func FuzzDecryptPrivateKey(f *testing.F) {
	kdf := &recordingKDF{}
	der, err := EncryptPrivateKey(testKey(f, "fuzz"), []byte("pw"), kdf.kdf, testScryptParams, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(der)
	f.Fuzz(func(t *testing.T, der []byte) {
		k := &recordingKDF{}
		key, err := DecryptPrivateKey(der, []byte("pw"), k.kdf, fuzzSchemes)
		if k.calls > 0 && !scryptWithinBounds(k.n, k.r, k.p) {
			t.Fatalf("scrypt called with N=%d r=%d p=%d beyond the bounds", k.n, k.r, k.p)
		}
		if err == nil && key == nil {
			t.Fatal("no key and no error")
		}
	})
}

func FuzzParseRevocationListPEM(f *testing.F) {
	p := newTestPKI(f)
	f.Add(EncodeRevocationListPEM(mustList(f, p.inter, p.interKey, 3, RevokeCertificate(p.leaf, p.inter, t0, "x")), p.inter))
	f.Add(EncodeRevocationListPEM(mustList(f, p.root, p.rootKey, 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		rl, chain, err := ParseRevocationListPEM(data, fuzzSchemes)
		if err != nil {
			return
		}
		again, _, err := ParseRevocationListPEM(EncodeRevocationListPEM(rl, chain...), fuzzSchemes)
		if err != nil || !bytes.Equal(again.Raw, rl.Raw) || len(again.Entries) != len(rl.Entries) {
			t.Fatalf("list does not round-trip: %v", err)
		}
	})
}

func FuzzParseCertificateRequest(f *testing.F) {
	req, err := CreateCertificateRequest(RequestTemplate{Subject: pkix.Name{CommonName: "n"}, DNSNames: []string{"n.example"}}, testKey(f, "r"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(req.Raw)
	f.Fuzz(func(t *testing.T, der []byte) {
		r, err := ParseCertificateRequest(der, fuzzSchemes)
		if err != nil {
			return
		}
		if !bytes.Equal(r.Raw, der) || r.PublicKey == nil {
			t.Fatal("accepted request lost bytes or its key")
		}
	})
}

// scryptWithinBounds reports whether scrypt with these parameters allocates at
// most 1 GiB for its table and 72 KiB besides (128·r·(p+2), what
// golang.org/x/crypto/scrypt.Key allocates for B and its scratch block), and
// does at most 2^25 units of work.
func scryptWithinBounds(n, r, p int) bool {
	if n < 2 || r < 1 || p < 1 || r > 1<<30 || p > 1<<30 || n > 1<<30 {
		return false
	}
	N, R, P := uint64(n), uint64(r), uint64(p)
	return 128*R*N <= 1<<30 && 128*R*(P+2) <= 72<<10 && N*R*P <= 1<<25
}
