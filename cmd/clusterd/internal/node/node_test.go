package node

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/snowmerak/clustering/adapters/memrepo"
	"github.com/snowmerak/clustering/cmd/clusterd/internal/config"
	"github.com/snowmerak/clustering/cmd/clusterd/internal/devpki"
	"github.com/snowmerak/clustering/cmd/clusterd/internal/registry"
	"github.com/snowmerak/clustering/cmd/clusterd/internal/trust"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest"
	"github.com/snowmerak/clustering/core/coretest/fakenet"
	"github.com/snowmerak/clustering/membership/swim"
	"github.com/snowmerak/clustering/pki"
	"github.com/snowmerak/clustering/transport"
)

// kcp-go keeps a package-level scheduler for the life of the process.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/xtaci/kcp-go/v5.(*TimedSched).sched"),
		goleak.IgnoreTopFunction("github.com/xtaci/kcp-go/v5.(*TimedSched).prepend"),
	)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fastSWIM detects a crash among three nodes in about a second.
func fastSWIM() swim.Config {
	c := swim.DefaultLocalConfig()
	c.ProbeInterval, c.ProbeTimeout = 200*time.Millisecond, 80*time.Millisecond
	c.GossipInterval = 50 * time.Millisecond
	c.SuspicionMult = 2
	c.RequestTimeout = time.Second
	c.PushPullInterval = 2 * time.Second
	return c
}

// cluster is nodes on a fake network with a shared in-memory registry.
type cluster struct {
	t        *testing.T
	net      *fakenet.Network
	pki      *devpki.PKI
	registry core.MemberRepo
	trust    *pki.TrustStore
	suite    core.Suite
}

// newCluster is a cluster with the standard library's crypto (fast).
func newCluster(t *testing.T) *cluster {
	t.Helper()
	return newClusterWith(t, coretest.Ed25519, coretest.Suite())
}

// newClusterWith is a cluster whose PKI uses scheme and whose nodes suite.
func newClusterWith(t *testing.T, scheme core.SignatureScheme, suite core.Suite) *cluster {
	t.Helper()
	p, err := devpki.New(t.TempDir(), "node-test", scheme, time.Now())
	require.NoError(t, err)
	repo := memrepo.New()
	t.Cleanup(func() { repo.Close() })
	return &cluster{t: t, net: fakenet.New(1), pki: p, registry: repo, trust: pki.NewTrustStore(p.Root), suite: suite}
}

// options returns a node's options on address ip:7946.
func (c *cluster) options(name, ip string, seeds ...config.Seed) Options {
	c.t.Helper()
	n, err := c.pki.Node(name)
	require.NoError(c.t, err)
	conn, err := c.net.Listen(ip + ":7946")
	require.NoError(c.t, err)
	return Options{
		Identity: trust.Identity{Signer: n.Key, Chain: n.Chain},
		Suite:    c.suite, Trust: c.trust,
		Registry: registry.Wrap(c.registry), Register: true,
		Conn: conn, Seeds: seeds, JoinTimeout: 5 * time.Second,
		Topology: config.Topology{Zone: "zone-" + name, Weight: 1},
		SWIM:     fastSWIM(), Replicas: 2, Logger: quiet,
		TransportConfig: func(tc *transport.Config) {
			tc.TickInterval, tc.RetransmitInitial, tc.HandshakeTimeout = 5*time.Millisecond, 50*time.Millisecond, 2*time.Second
		},
	}
}

func (c *cluster) start(o Options) *Node {
	c.t.Helper()
	n, err := Start(context.Background(), o)
	require.NoError(c.t, err)
	c.t.Cleanup(func() { n.Close() })
	return n
}

func states(n *Node) map[core.NodeID]swim.State {
	out := map[core.NodeID]swim.State{}
	for _, m := range n.Members() {
		out[m.ID] = m.State
	}
	return out
}

func seedOf(n *Node) config.Seed {
	return config.Seed{ID: n.ID(), Host: n.Addr().Addr().String(), Port: n.Addr().Port()}
}

func TestNodesFormAClusterThatFollowsLiveness(t *testing.T) {
	c := newCluster(t)
	n1 := c.start(c.options("n1", "10.0.0.1"))
	addrOnly := seedOf(n1)
	addrOnly.ID = core.NodeID{}
	n2 := c.start(c.options("n2", "10.0.0.2", addrOnly))
	n3 := c.start(c.options("n3", "10.0.0.3", seedOf(n1)))
	nodes := []*Node{n1, n2, n3}

	begin := time.Now()
	require.Eventually(t, func() bool {
		for _, n := range nodes {
			if len(n.View().Members) != 3 {
				return false
			}
		}
		return true
	}, 10*time.Second, 20*time.Millisecond, "every node places all three")
	t.Logf("three nodes converged in %v", time.Since(begin))
	for _, n := range nodes {
		for _, m := range n.Members() {
			assert.Equal(t, swim.StateAlive, m.State)
		}
	}
	assert.Equal(t, netip.MustParseAddrPort("10.0.0.2:7946"), n2.Addr())
	registered, _, err := c.registry.List(context.Background())
	require.NoError(t, err)
	assert.Len(t, registered, 3, "each node wrote its record")

	keys := make([][]byte, 200)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key-%d", i)
	}
	before := n1.View()

	// n3 crashes: no leave, its packets stop.
	c.net.Crash("10.0.0.3")
	require.NoError(t, n3.Close())
	sc := fastSWIM()
	bound := sc.DetectionBound(3)
	// The bound assumes timers fire on time; a loaded machine (race
	// detector, shared cores) gets twice the bound and a margin.
	ctx, cancel := context.WithTimeout(context.Background(), 2*bound+5*time.Second)
	defer cancel()
	start := time.Now()
	after, err := n1.WaitView(ctx, func(v *View) bool { return !v.Has(n3.ID()) })
	require.NoError(t, err, "n3 still placed after %v", bound)
	t.Logf("n3 dropped out of n1's view after %v (bound %v)", time.Since(start), bound)
	require.Eventually(t, func() bool { return states(n2)[n3.ID()] == swim.StateDead }, 2*bound+5*time.Second, 20*time.Millisecond)
	assert.Equal(t, swim.StateDead, states(n1)[n3.ID()])

	// Placement is consistent: only n3's keys move.
	moved := 0
	for _, k := range keys {
		was, now := before.Placement.Owner(k), after.Placement.Owner(k)
		if was == n3.ID() {
			moved++
			assert.NotEqual(t, n3.ID(), now)
			continue
		}
		assert.Equal(t, was, now, "a key of a live member moved")
	}
	assert.Positive(t, moved)

	// n2 leaves gracefully; n1 sees it left, not dead.
	begin = time.Now()
	require.NoError(t, n2.Leave(context.Background()))
	require.Eventually(t, func() bool { return states(n1)[n2.ID()] == swim.StateLeft }, 5*time.Second, 20*time.Millisecond)
	t.Logf("n1 saw n2 leave %v after it began leaving", time.Since(begin))
	v, err := n1.WaitView(ctx, func(v *View) bool { return len(v.Members) == 1 })
	require.NoError(t, err)
	assert.Equal(t, n1.ID(), v.Members[0].ID)
	require.NoError(t, n2.Close())
	require.NoError(t, n1.Leave(context.Background()), "a node alone leaves without error")
}

func TestStartRefuses(t *testing.T) {
	c := newCluster(t)
	n1 := c.start(c.options("n1", "10.0.0.1"))
	foreign, err := devpki.New(t.TempDir(), "foreign", coretest.Ed25519, time.Now())
	require.NoError(t, err)

	for _, tc := range []struct {
		rule string
		opts func() Options
		want string
	}{
		{"an unreachable seed fails the start after the join timeout", func() Options {
			o := c.options("a", "10.0.0.10", config.Seed{Host: "10.0.0.99", Port: 7946})
			o.JoinTimeout = 500 * time.Millisecond
			return o
		}, "no seed answered within 500ms"},
		{"a seed must present the ID it is named with", func() Options {
			s := seedOf(n1)
			s.ID = core.NodeID{7}
			o := c.options("b", "10.0.0.11", s)
			o.JoinTimeout = 500 * time.Millisecond
			return o
		}, "address answered with another node"},
		{"a node of another PKI is refused by the seed", func() Options {
			o := c.options("c", "10.0.0.12", seedOf(n1))
			n, err := foreign.Node("intruder")
			require.NoError(t, err)
			o.Identity = trust.Identity{Signer: n.Key, Chain: n.Chain}
			o.Trust = pki.NewTrustStore(foreign.Root, c.pki.Root)
			o.JoinTimeout = 500 * time.Millisecond
			return o
		}, "refused by peer"},
		{"with the allow-list on, the node must be registered", func() Options {
			o := c.options("d", "10.0.0.13")
			o.AllowList, o.Register = true, false
			return o
		}, "not in the member registry"},
		{"replicas are bounded", func() Options {
			o := c.options("e", "10.0.0.14")
			o.Replicas = 99
			return o
		}, "replicas"},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			_, err := Start(context.Background(), tc.opts())
			require.ErrorContains(t, err, tc.want)
		})
	}
}
