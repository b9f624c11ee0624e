package transport

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core/coretest/fakenet"
	"github.com/snowmerak/clustering/pki"
)

// The initiator signs M3 while it verifies M2; the signature must never
// leave when the responder fails a check. Each case makes the responder
// fail one and counts the M3 fragments on the wire.
func TestInitiatorSendsNoM3ToAResponderThatFailsVerification(t *testing.T) {
	good := newTestPKI(t, "good")
	evil := newTestPKI(t, "evil")
	expired, _ := good.nodeValid(t, "expired", testNow.Add(-20*day), testNow.Add(-day))
	tests := []struct {
		name       string
		responder  Identity
		dialerPol  PeerPolicy
		wantReason Reason
	}{
		{"responder chain to an untrusted root", evil.node(t, "b"), PeerPolicy{Trust: good.trust()}, ReasonUntrusted},
		{"responder not in the allow-list", good.node(t, "b"), PeerPolicy{Members: newMemberRepo(nodeIDOf(t, good.node(t, "c")))}, ReasonNotAllowed},
		{"responder certificate expired", expired, PeerPolicy{Trust: good.trust()}, ReasonExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, clk := fakenet.New(1), newClock()
			var m3 atomic.Int64
			n.SetHook(func(p *fakenet.Packet) fakenet.Verdict {
				if len(p.Payload) > 0 && packetType(p.Payload[0]) == typeM3 {
					m3.Add(1)
				}
				return fakenet.Deliver
			})
			a := listen(t, n, addrA, testConfig(good.node(t, "a"), tt.dialerPol, clk))
			listen(t, n, addrB, testConfig(tt.responder, PeerPolicy{Trust: pki.NewTrustStore(good.root, evil.root)}, clk))
			_, err := a.Dial(ctxT(t, 5*time.Second), addrB)
			var herr *HandshakeError
			require.ErrorAs(t, err, &herr)
			assert.Equal(t, tt.wantReason, herr.Reason, "error: %v", err)
			assert.Zero(t, m3.Load(), "an M3 left for a responder that failed verification")
		})
	}
}

// A responder checks a chain it verified before (cached, its signatures in
// the trust store's memo) in line rather than next to the signature; every
// rule still applies to it: a stolen chain without its key is refused for
// its signature, and a certificate revoked since is refused as revoked.
func TestResponderRechecksAChainItVerifiedBefore(t *testing.T) {
	tests := []struct {
		name   string
		attack func(t *testing.T, p *pair, trust *pki.TrustStore)
		want   Reason
	}{
		{"stolen chain, signed with another key", func(t *testing.T, p *pair, _ *pki.TrustStore) {
			victim, err := parseChain(p.aID.Chain, chainFingerprint(p.aID.Chain), p.b.schemes, nil)
			require.NoError(t, err)
			thief := listen(t, p.net, "10.0.0.3:7000", testConfig(p.pki.node(t, "thief"), PeerPolicy{Trust: p.pki.trust()}, p.clk))
			thief.local.chain, thief.local.certs, thief.local.fingerprint, thief.local.id = p.aID.Chain, victim.certs, victim.fingerprint, victim.id
			thief.local.encodeIdentities()
			p.a = thief
		}, ReasonBadSignature},
		{"leaf revoked since", func(t *testing.T, p *pair, trust *pki.TrustStore) {
			leaf, err := pki.ParseCertificate(p.aID.Chain[0], p.b.schemes)
			require.NoError(t, err)
			rl, err := pki.CreateRevocationList(1, testNow, []pki.RevocationEntry{pki.RevokeCertificate(leaf, p.pki.inter, testNow, "key compromise")}, p.pki.root, p.pki.rootKey)
			require.NoError(t, err)
			require.NoError(t, trust.AddRevocationList(rl, nil, testNow))
		}, ReasonRevoked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var trustB *pki.TrustStore
			p := newPair(t, func(name string, c *Config) {
				if name == "b" {
					trustB = c.Policy.Trust
				}
			})
			sa, _ := p.connect(t)
			require.NoError(t, sa.Close())
			require.Eventually(t, func() bool { return p.b.Metrics().Sessions == 0 }, 2*time.Second, 5*time.Millisecond)
			require.NotNil(t, p.b.chains.get(chainFingerprint(p.aID.Chain)), "the responder holds the chain it verified")
			before := p.b.Metrics().HandshakeFailures[tt.want]
			tt.attack(t, p, trustB)

			_, err := p.a.Dial(ctxT(t, 5*time.Second), addrB)
			var herr *HandshakeError
			require.ErrorAs(t, err, &herr)
			assert.ErrorIs(t, err, ErrRefusedByPeer)
			assert.Equal(t, tt.want, herr.Reason, "error: %v", err)
			assert.Equal(t, before+1, p.b.Metrics().HandshakeFailures[tt.want])
			assert.Zero(t, p.b.Metrics().Sessions)
		})
	}
}
