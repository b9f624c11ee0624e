package integration_test

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/adapters/csvrepo"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/membership"
	"github.com/snowmerak/clustering/transport"
)

// writeMemberFile records creds as members in a CSV member file through the
// membership store, as an operator's tooling would, and returns its path.
func writeMemberFile(t *testing.T, creds []credential) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "members.csv")
	repo, err := csvrepo.Open(path, csvrepo.WithPollInterval(0))
	require.NoError(t, err)
	defer repo.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	store, err := membership.Open(ctx, repo, membership.Config{})
	require.NoError(t, err)
	defer store.Close()
	for i, c := range creds {
		ip, _ := netip.AddrFromSlice(nodeIP(i).To4())
		m, err := membership.NewMember(c.chainPEM, "eu", "eu-1", "rack-"+string(rune('a'+i%2)), ip, c.name+".cluster.internal", 1)
		require.NoError(t, err)
		m.Port = 7946
		require.NoError(t, store.Add(ctx, m), "add %s", c.name)
	}
	return path
}

// openMembers opens the member file read-side for one node's policy.
func openMembers(t *testing.T, path string) core.MemberRepo {
	t.Helper()
	repo, err := csvrepo.Open(path, csvrepo.WithPollInterval(0))
	require.NoError(t, err)
	t.Cleanup(func() { repo.Close() })
	return repo
}

// tier is one way of deciding who may join: the policy every cluster node
// uses, and the reason it gives when it refuses each kind of intruder.
type tier struct {
	name   string
	policy func(t *testing.T, creds []credential) func(int) transport.PeerPolicy
	// refuses maps an intruder to the reason the tier refuses it with;
	// an intruder missing from it is accepted by the tier.
	refuses map[string]transport.Reason
}

func tiers() []tier {
	return []tier{
		{
			name: "trust store",
			policy: func(t *testing.T, _ []credential) func(int) transport.PeerPolicy {
				f := pkiFixture(t)
				return func(int) transport.PeerPolicy { return transport.PeerPolicy{Trust: f.cluster.trust()} }
			},
			refuses: map[string]transport.Reason{"mallory": transport.ReasonUntrusted},
		},
		{
			name: "member allow-list from a CSV file",
			policy: func(t *testing.T, creds []credential) func(int) transport.PeerPolicy {
				path := writeMemberFile(t, creds)
				return func(int) transport.PeerPolicy { return transport.PeerPolicy{Members: openMembers(t, path)} }
			},
			refuses: map[string]transport.Reason{"mallory": transport.ReasonNotAllowed, "outsider": transport.ReasonNotAllowed},
		},
	}
}

// Five nodes with ML-DSA-65 leaves under one root and intermediate: every
// pair establishes a session and exchanges messages both ways, under each
// policy tier, and every session names the honest peer.
func TestFiveNodesAllPairsEstablishSessions(t *testing.T) {
	for _, tr := range tiers() {
		t.Run(tr.name, func(t *testing.T) {
			forEachSeed(t, func(t *testing.T, seed int64) {
				creds := firstCreds(t, 5)
				c := newCluster(t, seed, clusterOptions{creds: creds, policy: tr.policy(t, creds)})
				sessions := c.connectAll(t)
				require.Len(t, sessions, 10)
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				for pair, s := range sessions {
					i, j := pair[0], pair[1]
					assert.Equal(t, c.nodes[j].id(), s[0].PeerID(), "seed %d: %s's session names the wrong peer", seed, c.nodes[i].cred.name)
					assert.Equal(t, c.nodes[i].id(), s[1].PeerID(), "seed %d: %s's session names the wrong peer", seed, c.nodes[j].cred.name)
					assert.Equal(t, c.nodes[j].cred.leaf.Raw, s[0].PeerChain()[0].Raw, "seed %d: peer chain", seed)
					require.NoError(t, roundTrip(ctx, s[0], s[1], c.nodes[i].cred.name+"/"+c.nodes[j].cred.name), "seed %d", seed)
				}
				for _, n := range c.nodes {
					m := n.ep.Metrics()
					assert.Equal(t, 4, m.Sessions, "seed %d: %s sessions", seed, n.cred.name)
					assert.Empty(t, m.HandshakeFailures, "seed %d: %s handshake failures", seed, n.cred.name)
				}
			})
		})
	}
}

// A node the tier does not admit is refused on both sides with the
// policy's reason: as the responder (the intruder's Dial fails with
// ErrRefusedByPeer) and as the initiator (the member's Dial fails with
// ErrRefused). A node the tier admits gets a session.
func TestTiersRefuseIntrudersOnBothSides(t *testing.T) {
	f := pkiFixture(t)
	for _, tr := range tiers() {
		for _, intruder := range []credential{f.mallory, f.outsider} {
			t.Run(tr.name+"/"+intruder.name, func(t *testing.T) {
				forEachSeed(t, func(t *testing.T, seed int64) {
					creds := firstCreds(t, 1)
					c := newCluster(t, seed, clusterOptions{creds: creds, policy: tr.policy(t, creds)})
					member := c.nodes[0]
					// The intruder itself accepts the member, so any refusal is the member's.
					in := c.start(t, intruder, "10.0.9.100:7946", transport.PeerPolicy{Pinned: []core.NodeID{member.id()}}, nil)
					ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
					defer cancel()

					_, errIn := in.ep.Dial(ctx, member.addr)
					_, errOut := member.ep.Dial(ctx, in.addr)
					reason, refused := tr.refuses[intruder.name]
					if !refused {
						require.NoError(t, errIn, "seed %d: admitted intruder dials", seed)
						require.NoError(t, errOut, "seed %d: member dials admitted intruder", seed)
						return
					}
					var he *transport.HandshakeError
					require.ErrorIs(t, errIn, transport.ErrRefusedByPeer, "seed %d", seed)
					require.True(t, errors.As(errIn, &he), "seed %d: %v", seed, errIn)
					assert.Equal(t, reason, he.Reason, "seed %d: reason told to the intruder", seed)
					require.ErrorIs(t, errOut, transport.ErrRefused, "seed %d", seed)
					require.True(t, errors.As(errOut, &he), "seed %d: %v", seed, errOut)
					assert.Equal(t, reason, he.Reason, "seed %d: member's own reason", seed)
					assert.GreaterOrEqual(t, member.ep.Metrics().HandshakeFailures[reason], uint64(2), "seed %d: member counts both refusals", seed)
					assert.Zero(t, member.ep.Metrics().SessionsOpened, "seed %d: member opened a session", seed)
					assert.Zero(t, in.ep.Metrics().SessionsOpened, "seed %d: intruder opened a session", seed)
				})
			})
		}
	}
}
