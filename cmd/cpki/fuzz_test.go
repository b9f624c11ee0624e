package main

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/snowmerak/clustering/adapters/pqc"
	"github.com/snowmerak/clustering/pki"
)

// FuzzDecodeAny feeds "cpki print" hostile files: it must not panic, and
// whatever it shows, as text or as JSON, must carry no control character but
// the line breaks it puts there itself.
func FuzzDecodeAny(f *testing.F) {
	for _, name := range []string{"ML-DSA-44.crt", "ML-DSA-65.crt"} {
		data, err := os.ReadFile(filepath.Join("testdata", "rfc9881", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	key, err := pqc.MLDSA44.GenerateKey(nil)
	if err != nil {
		f.Fatal(err)
	}
	req, err := pki.CreateCertificateRequest(pki.RequestTemplate{Subject: pkix.Name{CommonName: "n\x1b[2K\r\u009b"}, DNSNames: []string{"n.example.com"}}, key)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pki.EncodeCertificateRequestPEM(req))
	f.Add(pki.EncodePublicKeyPEM(key.Public()))
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	root, err := pki.NewRoot(pki.Template{Subject: pkix.Name{CommonName: "r"}, NotBefore: t0, NotAfter: t0.Add(time.Hour)}, key, nil)
	if err != nil {
		f.Fatal(err)
	}
	rl, err := pki.CreateRevocationList(1, t0, []pki.RevocationEntry{pki.RevokeCertificate(root, nil, t0, "x\x1b]0;\a")}, root, key)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pki.EncodeRevocationListPEM(rl))
	f.Fuzz(func(t *testing.T, data []byte) {
		items, err := decodeAny(data)
		if err != nil {
			return
		}
		var out bytes.Buffer
		for _, it := range items {
			it.text(&out)
		}
		raw := func(r rune) bool { return r != '\n' && !unicode.IsPrint(r) }
		if i := strings.IndexFunc(out.String(), raw); i >= 0 {
			t.Fatalf("raw control character at %d of %q", i, out.String())
		}
		out.Reset()
		if err := encodeJSON(&out, items); err != nil {
			t.Fatal(err)
		}
		if !json.Valid(out.Bytes()) {
			t.Fatalf("invalid JSON: %q", out.String())
		}
		if i := strings.IndexFunc(out.String(), raw); i >= 0 {
			t.Fatalf("raw control character at %d of JSON %q", i, out.String())
		}
	})
}
