package transport

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest/fakenet"
	"github.com/snowmerak/clustering/pki"
)

// memberRepo is a minimal core.MemberRepo for allow-list tests.
type memberRepo struct {
	mu      sync.Mutex
	members map[core.NodeID]core.Member
	err     error // when set, Get fails with it
}

func newMemberRepo(ids ...core.NodeID) *memberRepo {
	r := &memberRepo{members: map[core.NodeID]core.Member{}}
	for _, id := range ids {
		r.members[id] = core.Member{ID: id}
	}
	return r
}

func (r *memberRepo) List(context.Context) ([]core.Member, int64, error) {
	return nil, 0, errors.New("not used")
}

func (r *memberRepo) Get(_ context.Context, id core.NodeID) (core.Member, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return core.Member{}, r.err
	}
	m, ok := r.members[id]
	if !ok {
		return core.Member{}, fmt.Errorf("member %s: %w", id.Short(), core.ErrNotFound)
	}
	return m, nil
}

func (r *memberRepo) Put(context.Context, core.Member, int64) (int64, error) {
	return 0, errors.New("not used")
}

func (r *memberRepo) Delete(_ context.Context, id core.NodeID, _ int64) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.members, id)
	return 0, nil
}

func (r *memberRepo) Watch(context.Context, int64) (<-chan core.MemberEvent, error) {
	return nil, errors.New("not used")
}

func nodeIDOf(t testing.TB, id Identity) core.NodeID {
	t.Helper()
	return core.NodeIDOf(id.Signer.Public())
}

// Every refusal rule, made to happen: the dial fails on the initiator with
// the reason, and the refusing side counts it.
func TestPolicyRefusesPeer(t *testing.T) {
	good := newTestPKI(t, "good")
	evil := newTestPKI(t, "evil")
	idA, idB, idC := good.node(t, "a"), good.node(t, "b"), good.node(t, "c")
	expired, _ := good.nodeValid(t, "expired", testNow.Add(-20*day), testNow.Add(-day))
	notYet, _ := good.nodeValid(t, "not-yet", testNow.Add(day), testNow.Add(90*day))
	revokedID, revokedLeaf := good.nodeValid(t, "revoked", testNow.Add(-day), testNow.Add(90*day))
	revokedTrust := good.trust()
	rl, err := pki.CreateRevocationList(1, testNow, []pki.RevocationEntry{pki.RevokeCertificate(revokedLeaf, good.inter, testNow, "key compromise")}, good.root, good.rootKey)
	require.NoError(t, err)
	require.NoError(t, revokedTrust.AddRevocationList(rl, nil, testNow))
	revokedInterTrust := good.trust()
	rl2, err := pki.CreateRevocationList(1, testNow, []pki.RevocationEntry{pki.RevokeCertificate(good.inter, good.root, testNow, "ca compromise")}, good.root, good.rootKey)
	require.NoError(t, err)
	require.NoError(t, revokedInterTrust.AddRevocationList(rl2, nil, testNow))

	cases := []struct {
		name       string
		dialer     Identity    // the initiator's identity
		dialerPol  PeerPolicy  // the initiator's policy
		listenPol  PeerPolicy  // the responder's policy
		reason     Reason      // why the refusing side refuses
		byPeer     bool        // the responder refuses (true) or the initiator does
		refusingID func() bool // unused marker for readability
	}{
		{name: "initiator not in the responder's allow-list", dialer: idA, dialerPol: PeerPolicy{Trust: good.trust()},
			listenPol: PeerPolicy{Members: newMemberRepo(nodeIDOf(t, idC))}, reason: ReasonNotAllowed, byPeer: true},
		{name: "responder not in the initiator's allow-list", dialer: idA, dialerPol: PeerPolicy{Members: newMemberRepo(nodeIDOf(t, idC))},
			listenPol: PeerPolicy{Trust: good.trust()}, reason: ReasonNotAllowed},
		{name: "initiator not pinned", dialer: idA, dialerPol: PeerPolicy{Trust: good.trust()},
			listenPol: PeerPolicy{Pinned: []core.NodeID{nodeIDOf(t, idC)}}, reason: ReasonNotAllowed, byPeer: true},
		{name: "allow-list and trust store both apply", dialer: evil.node(t, "a"), dialerPol: PeerPolicy{Trust: good.trust()},
			listenPol: PeerPolicy{Members: newMemberRepo(nodeIDOf(t, evil.node(t, "a"))), Trust: good.trust()}, reason: ReasonUntrusted, byPeer: true},
		{name: "chain to an untrusted root", dialer: evil.node(t, "a"), dialerPol: PeerPolicy{Trust: good.trust()},
			listenPol: PeerPolicy{Trust: good.trust()}, reason: ReasonUntrusted, byPeer: true},
		{name: "responder chain to an untrusted root", dialer: idA, dialerPol: PeerPolicy{Trust: evil.trust()},
			listenPol: PeerPolicy{Trust: good.trust()}, reason: ReasonUntrusted},
		{name: "expired certificate", dialer: expired, dialerPol: PeerPolicy{Trust: good.trust()},
			listenPol: PeerPolicy{Trust: good.trust()}, reason: ReasonExpired, byPeer: true},
		{name: "expired certificate with pinned keys", dialer: expired, dialerPol: PeerPolicy{Trust: good.trust()},
			listenPol: PeerPolicy{Pinned: []core.NodeID{nodeIDOf(t, expired)}}, reason: ReasonExpired, byPeer: true},
		{name: "certificate not yet valid", dialer: notYet, dialerPol: PeerPolicy{Trust: good.trust()},
			listenPol: PeerPolicy{Trust: good.trust()}, reason: ReasonExpired, byPeer: true},
		{name: "revoked leaf", dialer: revokedID, dialerPol: PeerPolicy{Trust: good.trust()},
			listenPol: PeerPolicy{Trust: revokedTrust}, reason: ReasonRevoked, byPeer: true},
		{name: "revoked intermediate", dialer: idA, dialerPol: PeerPolicy{Trust: good.trust()},
			listenPol: PeerPolicy{Trust: revokedInterTrust}, reason: ReasonRevoked, byPeer: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n, clk := fakenet.New(1), newClock()
			a := listen(t, n, addrA, testConfig(tc.dialer, tc.dialerPol, clk))
			b := listen(t, n, addrB, testConfig(idB, tc.listenPol, clk))
			_, err := a.Dial(ctxT(t, 5*time.Second), addrB)
			require.Error(t, err)
			var herr *HandshakeError
			require.ErrorAs(t, err, &herr)
			assert.Equal(t, tc.reason, herr.Reason, "error: %v", err)
			refuser := a
			if tc.byPeer {
				assert.ErrorIs(t, err, ErrRefusedByPeer)
				refuser = b
			} else {
				assert.ErrorIs(t, err, ErrRefused)
				assert.ErrorIs(t, err, core.ErrVerification)
			}
			assert.GreaterOrEqual(t, refuser.Metrics().HandshakeFailures[tc.reason], uint64(1))
			assert.Zero(t, b.Metrics().Sessions)
			assert.Zero(t, a.Metrics().Sessions)
		})
	}
}

// The seed accepted a client that presented a certificate without holding
// its key. Here a client sends another node's chain but can only sign with
// its own key: the responder refuses the signature.
func TestPolicyRefusesCertificateWithoutKey(t *testing.T) {
	p := newPair(t, nil)
	victim := p.pki.node(t, "victim")
	vc, err := parseChain(victim.Chain, chainFingerprint(victim.Chain), p.a.schemes, nil)
	require.NoError(t, err)
	// The attacker's endpoint presents the victim's chain with its own key.
	p.a.local.chain, p.a.local.certs, p.a.local.fingerprint, p.a.local.id = victim.Chain, vc.certs, vc.fingerprint, vc.id
	p.a.local.encodeIdentities()

	_, err = p.a.Dial(ctxT(t, 5*time.Second), addrB)
	var herr *HandshakeError
	require.ErrorAs(t, err, &herr)
	assert.ErrorIs(t, err, ErrRefusedByPeer)
	assert.Equal(t, ReasonBadSignature, herr.Reason)
	assert.Equal(t, uint64(1), p.b.Metrics().HandshakeFailures[ReasonBadSignature])
	assert.Zero(t, p.b.Metrics().Sessions)
}

func TestListenRefusesKeyThatIsNotTheCertificates(t *testing.T) {
	pk := newTestPKI(t, "x")
	id := pk.node(t, "a")
	id.Signer = key(t, "someone else")
	conn, err := fakenet.New(1).Listen(addrA)
	require.NoError(t, err)
	defer conn.Close()
	_, err = Listen(conn, testConfig(id, PeerPolicy{Trust: pk.trust()}, newClock()))
	assert.ErrorIs(t, err, core.ErrInvalidInput)
}

func TestListenRefusesConfigWithoutPolicy(t *testing.T) {
	pk := newTestPKI(t, "x")
	conn, err := fakenet.New(1).Listen(addrA)
	require.NoError(t, err)
	defer conn.Close()
	_, err = Listen(conn, testConfig(pk.node(t, "a"), PeerPolicy{}, newClock()))
	assert.ErrorIs(t, err, core.ErrInvalidInput)
}

// A member removed from the allow-list loses its session at the next rekey.
func TestPolicyRecheckedAtRekey(t *testing.T) {
	var repo *memberRepo
	p := newPair(t, func(name string, c *Config) {
		c.IdleTimeout = time.Hour // the clock jumps past the rekey time at once
		if name == "a" {
			repo = newMemberRepo(nodeIDOf(t, c.Identity)) // placeholder, replaced below
			c.Policy = PeerPolicy{Members: repo}
		}
	})
	repo.members = map[core.NodeID]core.Member{p.b.NodeID(): {ID: p.b.NodeID()}}
	sa, _ := p.connect(t)
	_, err := repo.Delete(context.Background(), p.b.NodeID(), core.AnyRevision)
	require.NoError(t, err)
	p.clk.Advance(DefaultRekeyAfter + time.Second)
	select {
	case <-sa.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("session with a removed member survived its rekey")
	}
	assert.ErrorIs(t, sa.Err(), ErrRefused)
}

// A member repo that does not answer during a rekey is a local failure,
// not a verdict, whether it is the rekey initiator's repo or the peer's: the
// session is kept and the rekey retried, and it ends with ErrKeysExpired
// only if the repo stays unreachable past RejectAfter.
func TestRekeySurvivesATemporaryRepoFailure(t *testing.T) {
	setup := func(t *testing.T, side string) (*pair, *memberRepo, *Session) {
		repo := newMemberRepo()
		p := newPair(t, func(name string, c *Config) {
			c.IdleTimeout = time.Hour // the clock jumps past the rekey time at once
			if name == side {
				c.Policy = PeerPolicy{Members: repo}
			}
		})
		repo.members[p.a.NodeID()] = core.Member{ID: p.a.NodeID()}
		repo.members[p.b.NodeID()] = core.Member{ID: p.b.NodeID()}
		sa, _ := p.connect(t)
		repo.mu.Lock()
		repo.err = errors.New("registry unreachable")
		repo.mu.Unlock()
		failures := func() uint64 {
			return p.a.Metrics().HandshakeFailures[ReasonInternal] + p.b.Metrics().HandshakeFailures[ReasonInternal]
		}
		before := failures()
		p.clk.Advance(DefaultRekeyAfter + time.Second)
		require.Eventually(t, func() bool { return failures() > before }, 5*time.Second, 5*time.Millisecond, "no rekey attempt failed")
		// The failure is counted before a handles it; advancing the clock in
		// between would schedule the retry after the advanced time.
		require.Eventually(t, func() bool {
			sa.mu.Lock()
			defer sa.mu.Unlock()
			return sa.rekeying == nil && sa.rekeyNext.After(p.clk.Now())
		}, 5*time.Second, 5*time.Millisecond, "a did not schedule a retry")
		return p, repo, sa
	}
	for _, side := range []string{"a", "b"} { // a starts the rekey
		t.Run("repo of "+side+": kept, and rekeyed once the repo answers", func(t *testing.T) {
			p, repo, sa := setup(t, side)
			require.NoError(t, sa.Err(), "a repo outage ended the session")
			repo.mu.Lock()
			repo.err = nil
			repo.mu.Unlock()
			p.clk.Advance(rekeyRetryInterval + time.Second)
			require.Eventually(t, func() bool { return p.a.Metrics().Rekeys > 0 || p.b.Metrics().Rekeys > 0 }, 5*time.Second, 5*time.Millisecond, "no rekey after the repo came back")
			require.NoError(t, sa.Err())
			require.NoError(t, sa.Send(ctxT(t, 5*time.Second), []byte("after the outage")))
		})
		t.Run("repo of "+side+": expires if the repo stays down", func(t *testing.T) {
			p, _, sa := setup(t, side)
			p.clk.Advance(DefaultRejectAfter)
			select {
			case <-sa.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("session outlived its keys")
			}
			assert.ErrorIs(t, sa.Err(), ErrKeysExpired)
		})
	}
}
