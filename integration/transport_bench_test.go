package integration_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/adapters/pqc"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest/fakenet"
	"github.com/snowmerak/clustering/pki"
	"github.com/snowmerak/clustering/transport"
)

// pqPKI is an ML-DSA-65 root and intermediate issuing ML-DSA-65 leaves.
type pqPKI struct {
	root, inter       *pki.Certificate
	rootKey, interKey core.Signer
}

// newPQPKI returns the suite's cached cluster authority (pki_fixture_test.go).
func newPQPKI(tb testing.TB) *pqPKI {
	tb.Helper()
	a := pkiFixture(tb).cluster
	return &pqPKI{root: a.root, inter: a.inter, rootKey: a.rootKey, interKey: a.interKey}
}

// node issues a leaf and returns the identity (leaf + intermediate) and the leaf.
func (p *pqPKI) node(tb testing.TB, name string) (transport.Identity, *pki.Certificate) {
	tb.Helper()
	k, err := pqc.MLDSA65.GenerateKey(nil)
	require.NoError(tb, err)
	now := time.Now()
	leaf, err := pki.Issue(pki.Template{Subject: pkix.Name{CommonName: name}, NotBefore: now.Add(-clockSkew), NotAfter: now.Add(time.Hour)}, k.Public(), p.inter, p.interKey, nil)
	require.NoError(tb, err)
	return transport.Identity{Signer: k, Chain: [][]byte{leaf.Raw, p.inter.Raw}}, leaf
}

// config is an endpoint trusting the PQ root. chainCache is
// Limits.ChainCacheSize (-1: chains always sent in full, never by reference).
// The per-source handshake rate limit is lifted: the benchmarks dial one
// peer back to back, far above the 10/s a real source may start, and a
// rate-limited M1 would measure the 250 ms retransmission timer instead of
// the handshake.
func (p *pqPKI) config(id transport.Identity, chainCache int) transport.Config {
	c := transport.Config{Identity: id, Suite: pqc.DefaultSuite(), Policy: transport.PeerPolicy{Trust: pki.NewTrustStore(p.root)}}
	c.Limits.ChainCacheSize = chainCache
	c.Limits.HandshakeRate, c.Limits.HandshakeBurst = 1e6, 1e6
	return c
}

// handshaker dials one responder over an in-memory network again and again,
// closing each session, so every Dial is a new handshake.
type handshaker struct {
	a, b *transport.Endpoint
	addr string
}

// newHandshaker makes the two endpoints. With memo false their trust stores
// remember no verified signature, so every handshake verifies both chains
// in full, as at first contact.
func newHandshaker(tb testing.TB, p *pqPKI, n *fakenet.Network, addrA, addrB string, chainCache int, memo bool) *handshaker {
	tb.Helper()
	idA, _ := p.node(tb, "a")
	idB, _ := p.node(tb, "b")
	ca, err := n.Listen(addrA)
	require.NoError(tb, err)
	cb, err := n.Listen(addrB)
	require.NoError(tb, err)
	cfgA, cfgB := p.config(idA, chainCache), p.config(idB, chainCache)
	if !memo {
		cfgA.Policy.Trust.SetSignatureMemoSize(0)
		cfgB.Policy.Trust.SetSignatureMemoSize(0)
	}
	a, err := transport.Listen(ca, cfgA)
	require.NoError(tb, err)
	b, err := transport.Listen(cb, cfgB)
	require.NoError(tb, err)
	tb.Cleanup(func() { a.Close(); b.Close() })
	go func() { // keep the accept queue drained
		for {
			if _, err := b.Accept(context.Background()); err != nil {
				return
			}
		}
	}()
	return &handshaker{a: a, b: b, addr: addrB}
}

func (h *handshaker) once(tb testing.TB) time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	s, err := h.a.Dial(ctx, h.addr)
	d := time.Since(start)
	require.NoError(tb, err)
	s.Close()
	return d
}

// primitives performs the public-key operations of one mutual handshake
// with leaf + intermediate chains both ways: a KEM key generation,
// encapsulation and decapsulation, two transcript signatures and their two
// verifications, and (certs) the four certificate signature verifications
// of the two chains. A handshake whose trust stores remember the chains'
// signatures (a peer seen before) does not verify certificates, so its
// baseline is the same without them. Keys are parsed and expanded once, as
// the handshake's are (adapters/pqc keeps expanded keys).
type primitives struct {
	kem                 core.KEM
	keyA, keyB          core.Signer
	leafA, leafB, inter *pki.Certificate
	root                *pki.Certificate
	transcript          []byte
}

func (p *primitives) once(tb testing.TB, certs bool) time.Duration {
	start := time.Now()
	dk, err := p.kem.GenerateKey(nil)
	require.NoError(tb, err)
	ct, _, err := p.kem.Encapsulate(nil, dk.PublicKey())
	require.NoError(tb, err)
	_, err = dk.Decapsulate(ct)
	require.NoError(tb, err)
	sigB, err := p.keyB.Sign(p.transcript, []byte("responder"))
	require.NoError(tb, err)
	sigA, err := p.keyA.Sign(p.transcript, []byte("initiator"))
	require.NoError(tb, err)
	ok := p.keyB.Public().Verify(p.transcript, []byte("responder"), sigB) && p.keyA.Public().Verify(p.transcript, []byte("initiator"), sigA)
	require.True(tb, ok)
	if certs {
		for _, leaf := range []*pki.Certificate{p.leafA, p.leafB} {
			require.NoError(tb, leaf.CheckSignatureFrom(p.inter))
			require.NoError(tb, p.inter.CheckSignatureFrom(p.root))
		}
	}
	return time.Since(start)
}

// tlsPair is a Go crypto/tls 1.3 mutual handshake, X25519MLKEM768 and
// Ed25519 leaf + intermediate chains both ways, over an in-memory pipe.
type tlsPair struct{ server, client *tls.Config }

func newTLSPair(tb testing.TB) *tlsPair {
	tb.Helper()
	now := time.Now()
	mk := func(cn string, pub ed25519.PublicKey, parent *x509.Certificate, parentKey ed25519.PrivateKey, ca bool) *x509.Certificate {
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: cn},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
			IsCA: ca, BasicConstraintsValid: true, DNSNames: []string{cn},
			KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		}
		if parent == nil {
			parent = tmpl
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
		require.NoError(tb, err)
		c, err := x509.ParseCertificate(der)
		require.NoError(tb, err)
		return c
	}
	rootPub, rootKey, _ := ed25519.GenerateKey(nil)
	interPub, interKey, _ := ed25519.GenerateKey(nil)
	root := mk("root", rootPub, nil, rootKey, true)
	inter := mk("inter", interPub, root, rootKey, true)
	leaf := func(cn string) tls.Certificate {
		pub, key, _ := ed25519.GenerateKey(nil)
		l := mk(cn, pub, inter, interKey, false)
		return tls.Certificate{Certificate: [][]byte{l.Raw, inter.Raw}, PrivateKey: key}
	}
	pool := x509.NewCertPool()
	pool.AddCert(root)
	curves := []tls.CurveID{tls.X25519MLKEM768}
	return &tlsPair{
		server: &tls.Config{Certificates: []tls.Certificate{leaf("server")}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool,
			MinVersion: tls.VersionTLS13, CurvePreferences: curves, SessionTicketsDisabled: true},
		client: &tls.Config{Certificates: []tls.Certificate{leaf("client")}, RootCAs: pool, ServerName: "server",
			MinVersion: tls.VersionTLS13, CurvePreferences: curves, SessionTicketsDisabled: true},
	}
}

func (p *tlsPair) once(tb testing.TB) time.Duration {
	c1, c2 := net.Pipe()
	defer c1.Close()
	defer c2.Close()
	srv, cli := tls.Server(c2, p.server), tls.Client(c1, p.client)
	errc := make(chan error, 1)
	start := time.Now()
	go func() { errc <- srv.Handshake() }()
	require.NoError(tb, cli.Handshake())
	require.NoError(tb, <-errc)
	d := time.Since(start)
	require.Equal(tb, tls.X25519MLKEM768, cli.ConnectionState().CurveID)
	return d
}

// BenchmarkTransportHandshakePQ measures, in one run and interleaved:
//
//   - full: a first-contact mutual handshake (X-Wing, ML-DSA-65, leaf +
//     intermediate both ways): chains sent in full both ways, parsed and
//     verified in full (no chain cache, trust stores without a signature
//     memo); against primitives, the sum of the public-key operations it
//     performs (KEM key generation, encapsulation, decapsulation, two
//     signatures, two verifications, four certificate verifications);
//   - reference: a handshake with a peer seen before: the responder's chain
//     sent by fingerprint reference (DESIGN §3), both chains' signatures
//     remembered by the trust stores (validity, revocation and policy are
//     still checked); against reference-primitives, the operations it
//     performs (the same without the certificate verifications), and
//     against tls13, a crypto/tls 1.3 mutual handshake (X25519MLKEM768,
//     Ed25519 leaf + intermediate both ways, no resumption).
//
// It reports medians in microseconds and their ratios. A handshake verifies
// the peer on one core while it signs on the other, and checks a chain's
// signatures at once, so it may finish in less than the sum of its
// primitives measured one after the other (its CPU time does not).
func BenchmarkTransportHandshakePQ(b *testing.B) {
	p := newPQPKI(b)
	n := fakenet.New(1)
	full := newHandshaker(b, p, n, "10.1.0.1:7000", "10.1.0.2:7000", -1, false)
	ref := newHandshaker(b, p, n, "10.2.0.1:7000", "10.2.0.2:7000", 0, true)
	ref.once(b) // learn the responder's chain
	idA, leafA := p.node(b, "pa")
	idB, leafB := p.node(b, "pb")
	prim := &primitives{kem: pqc.XWing, keyA: idA.Signer, keyB: idB.Signer, leafA: leafA, leafB: leafB, inter: p.inter, root: p.root, transcript: make([]byte, 32)}
	tp := newTLSPair(b)
	var tFull, tRef, tPrim, tRefPrim, tTLS []float64
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
	for b.Loop() {
		// Three rounds per iteration: an ML-DSA signature takes a random
		// number of rejection rounds, so medians need many samples.
		for range 3 {
			tFull = append(tFull, us(full.once(b)))
			tPrim = append(tPrim, us(prim.once(b, true)))
			tRef = append(tRef, us(ref.once(b)))
			tRefPrim = append(tRefPrim, us(prim.once(b, false)))
			tTLS = append(tTLS, us(tp.once(b)))
		}
	}
	b.ReportMetric(median(tFull), "full-µs")
	b.ReportMetric(median(tPrim), "primitives-µs")
	b.ReportMetric(median(tFull)/median(tPrim), "full/primitives")
	b.ReportMetric(median(tRef), "reference-µs")
	b.ReportMetric(median(tRefPrim), "reference-primitives-µs")
	b.ReportMetric(median(tRef)/median(tRefPrim), "reference/primitives")
	b.ReportMetric(median(tTLS), "tls13-µs")
	b.ReportMetric(median(tRef)/median(tTLS), "reference/tls13")
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
