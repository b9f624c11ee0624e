package swim_test

import (
	"bytes"
	"encoding/asn1"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest"
	"github.com/snowmerak/clustering/core/coretest/sim"
	"github.com/snowmerak/clustering/membership/swim"
)

// ML-DSA-65 (FIPS 204) sizes.
const (
	mldsa65PublicKey = 1952
	mldsa65Signature = 3309
)

// sizedScheme is Ed25519 padded to ML-DSA-65's key and signature sizes: real
// signatures with honest byte counts, at Ed25519's speed.
type sizedScheme struct{}

var oidMLDSA65 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 18}

func (sizedScheme) Name() string               { return "Ed25519 sized as ML-DSA-65" }
func (sizedScheme) OID() asn1.ObjectIdentifier { return oidMLDSA65 }
func (sizedScheme) PublicKeySize() int         { return mldsa65PublicKey }
func (sizedScheme) SignatureSize() int         { return mldsa65Signature }
func (sizedScheme) SeedSize() int              { return 32 }

func (s sizedScheme) NewKeyFromSeed(seed []byte) (core.Signer, error) {
	k, err := coretest.Ed25519.NewKeyFromSeed(seed)
	return sizedSigner{k}, err
}

func (s sizedScheme) GenerateKey(r io.Reader) (core.Signer, error) {
	k, err := coretest.Ed25519.GenerateKey(r)
	return sizedSigner{k}, err
}

func (sizedScheme) ParsePublicKey(b []byte) (core.PublicKey, error) {
	if len(b) != mldsa65PublicKey {
		return nil, fmt.Errorf("sized key: %d bytes: %w", len(b), core.ErrInvalidInput)
	}
	k, err := coretest.Ed25519.ParsePublicKey(b[:32])
	return sizedPublic{k}, err
}

type sizedSigner struct{ core.Signer }

func (s sizedSigner) Scheme() core.SignatureScheme { return sizedScheme{} }
func (s sizedSigner) Public() core.PublicKey       { return sizedPublic{s.Signer.Public()} }
func (s sizedSigner) Sign(m, ctx []byte) ([]byte, error) {
	sig, err := s.Signer.Sign(m, ctx)
	return append(sig, make([]byte, mldsa65Signature-len(sig))...), err
}

type sizedPublic struct{ core.PublicKey }

func (p sizedPublic) Scheme() core.SignatureScheme { return sizedScheme{} }
func (p sizedPublic) Bytes() []byte {
	return append(p.PublicKey.Bytes(), make([]byte, mldsa65PublicKey-32)...)
}
func (p sizedPublic) Verify(m, ctx, sig []byte) bool {
	return len(sig) == mldsa65Signature && bytes.Count(sig[64:], []byte{0}) == len(sig)-64 && p.PublicKey.Verify(m, ctx, sig[:64])
}

// TestSimSizeBudgetWithMLDSA65Sizes runs a 64-node cluster whose records carry
// ML-DSA-65-sized signatures and keeps every datagram within the budget while
// reporting traffic per node in steady state, through a crash, and under loss.
func TestSimSizeBudgetWithMLDSA65Sizes(t *testing.T) {
	t.Parallel()
	const n = 64
	cfg := swim.DefaultLANConfig()
	c := newCluster(t, n, *seedFlag, cfg, sizedScheme{})
	// A credential the size of a leaf certificate with an ML-DSA-65 key and signature.
	c.credential = make([]byte, 5500)
	c.bootstrap(n)
	rec, _ := c.nodes[0].Member(c.ids[1])
	require.Len(t, rec.Credential, 5500)

	report := func(phase string, m traffic) {
		msgs, bytes := c.rates(m, n)
		st := c.net.Total()
		t.Logf("ML-DSA-65 sizes, N=%d, %s: %.1f msgs and %.0f bytes per node per second (datagrams %.0f B/s, requests+replies %.0f B/s); largest datagram %d bytes",
			n, phase, msgs, bytes,
			float64(st.DatagramBytesSent-m.base.DatagramBytesSent)/c.clock.Now().Sub(m.start).Seconds()/n,
			float64(st.RequestBytes-m.base.RequestBytes+st.ReplyBytes-m.base.ReplyBytes)/c.clock.Now().Sub(m.start).Seconds()/n,
			st.MaxDatagram)
	}

	m := c.meter()
	c.clock.RunFor(2 * time.Minute)
	report("steady state (2 min)", m)

	m = c.meter()
	c.net.Crash(c.ids[n/2])
	live := slices.DeleteFunc(c.indices(n), func(i int) bool { return i == n/2 })
	_, ok := c.runUntil(cfg.DetectionBound(n), func() bool { return c.allSee(live, []int{n / 2}, swim.StateDead) })
	require.True(t, ok)
	c.clock.RunFor(time.Minute)
	report("a crash detected (detection + 1 min)", m)

	m = c.meter()
	c.net.SetDefaultLink(sim.Link{Loss: 0.1, Latency: lanLink.Latency, Jitter: lanLink.Jitter})
	c.clock.RunFor(2 * time.Minute)
	report("10% loss (2 min)", m)

	require.LessOrEqual(t, c.net.Total().MaxDatagram, cfg.MaxDatagramSize, "a datagram exceeded the budget")
}
