package pki_test

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net/url"
	"time"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest"
	"github.com/snowmerak/clustering/pki"
)

// A root, an intermediate and a node's leaf, then the node's chain verified
// against the root. Production code passes adapters/pqc's ML-DSA schemes
// where this example uses the standard library's Ed25519 double.
func Example() {
	scheme := coretest.Ed25519
	schemes := []core.SignatureScheme{scheme}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

	rootKey, _ := scheme.GenerateKey(nil)
	root, err := pki.NewRoot(pki.Template{
		Subject:   pkix.Name{CommonName: "My Root CA"},
		NotBefore: now, NotAfter: now.AddDate(10, 0, 0),
	}, rootKey, nil)
	if err != nil {
		panic(err)
	}
	interKey, _ := scheme.GenerateKey(nil)
	inter, err := pki.Issue(pki.Template{
		Subject: pkix.Name{CommonName: "My Intermediate CA"}, IsCA: true,
		NotBefore: now, NotAfter: now.AddDate(5, 0, 0),
	}, interKey.Public(), root, rootKey, nil)
	if err != nil {
		panic(err)
	}
	// The node makes its own key; only the public key travels to the CA.
	nodeKey, _ := scheme.GenerateKey(nil)
	leaf, err := pki.Issue(pki.Template{
		Subject:   pkix.Name{CommonName: "node-1"},
		URIs:      []*url.URL{{Scheme: "spiffe", Host: "cluster.local", Path: "/node/1"}},
		NotBefore: now, NotAfter: now.AddDate(1, 0, 0),
	}, nodeKey.Public(), inter, interKey, nil)
	if err != nil {
		panic(err)
	}

	// The node presents leaf + intermediate; the peer trusts the root.
	chain, err := pki.ParseCertificatesPEM(pki.EncodeCertificatesPEM(leaf, inter), schemes)
	if err != nil {
		panic(err)
	}
	store := pki.NewTrustStore(root)
	path, err := store.Verify(chain, pki.VerifyOptions{
		Now:       now.AddDate(0, 1, 0),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		URI:       "spiffe://cluster.local/node/1",
	})
	if err != nil {
		panic(err)
	}
	for _, c := range path {
		fmt.Println(c.Subject.CommonName)
	}
	fmt.Println(path[0].NodeID() == core.NodeIDOf(nodeKey.Public()))
	// Output:
	// node-1
	// My Intermediate CA
	// My Root CA
	// true
}

// Revoking a leaf: the intermediate signs a list, the trust store installs it.
func ExampleTrustStore_AddRevocationList() {
	scheme := coretest.Ed25519
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	rootKey, _ := scheme.GenerateKey(nil)
	root, _ := pki.NewRoot(pki.Template{Subject: pkix.Name{CommonName: "Root"}, NotBefore: now, NotAfter: now.AddDate(1, 0, 0)}, rootKey, nil)
	nodeKey, _ := scheme.GenerateKey(nil)
	leaf, _ := pki.Issue(pki.Template{Subject: pkix.Name{CommonName: "node-1"}, NotBefore: now, NotAfter: now.AddDate(0, 1, 0)}, nodeKey.Public(), root, rootKey, nil)

	list, err := pki.CreateRevocationList(1, now, []pki.RevocationEntry{pki.RevokeCertificate(leaf, root, now, "decommissioned")}, root, rootKey)
	if err != nil {
		panic(err)
	}
	store := pki.NewTrustStore(root)
	if err := store.AddRevocationList(list, nil, now); err != nil {
		panic(err)
	}
	_, err = store.Verify([]*pki.Certificate{leaf}, pki.VerifyOptions{Now: now})
	fmt.Println(err)
	// Output:
	// certificate 0 (CN=node-1): certificate revoked: verification failed: by "CN=Root" (list 1) at 2030-01-01T00:00:00Z: decommissioned
}

// A node keeps its private key: it sends a signing request, the CA checks the
// request's self-signature and issues for the requested names.
func ExampleCreateCertificateRequest() {
	scheme := coretest.Ed25519
	schemes := []core.SignatureScheme{scheme}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

	// On the node.
	nodeKey, _ := scheme.GenerateKey(nil)
	req, err := pki.CreateCertificateRequest(pki.RequestTemplate{
		Subject:  pkix.Name{CommonName: "node-2"},
		DNSNames: []string{"node-2.cluster.local"},
	}, nodeKey)
	if err != nil {
		panic(err)
	}
	csrPEM := pki.EncodeCertificateRequestPEM(req)

	// At the CA.
	caKey, _ := scheme.GenerateKey(nil)
	ca, _ := pki.NewRoot(pki.Template{Subject: pkix.Name{CommonName: "CA"}, NotBefore: now, NotAfter: now.AddDate(1, 0, 0)}, caKey, nil)
	got, err := pki.ParseCertificateRequestPEM(csrPEM, schemes)
	if err != nil {
		panic(err)
	}
	tmpl := got.Template()
	tmpl.NotBefore, tmpl.NotAfter = now, now.AddDate(0, 3, 0)
	leaf, err := pki.Issue(tmpl, got.PublicKey, ca, caKey, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(leaf.Subject.CommonName, leaf.DNSNames, leaf.NodeID() == core.NodeIDOf(nodeKey.Public()))
	// Output:
	// node-2 [node-2.cluster.local] true
}
