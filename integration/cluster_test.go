package integration_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/adapters/pqc"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest/fakenet"
	"github.com/snowmerak/clustering/transport"
)

// Timers of the test clusters: the protocol's defaults scaled down so that
// scenarios take seconds, not minutes.
const (
	testTick              = 10 * time.Millisecond
	testRetransmitInitial = 150 * time.Millisecond
	testHandshakeTimeout  = 20 * time.Second
	dialTimeout           = 30 * time.Second
)

// seededRand returns a deterministic randomness source for one endpoint:
// the scenario seed and a label unique to the endpoint.
func seededRand(seed int64, label string) io.Reader {
	return rand.NewChaCha8(sha256.Sum256(fmt.Appendf(nil, "%d/%s", seed, label)))
}

// nodeConfig is a node's transport configuration for the test clusters:
// the production suite (X-Wing, ML-DSA-65, XChaCha20-Poly1305), fast
// timers and seeded randomness.
func nodeConfig(cred credential, policy transport.PeerPolicy, seed int64, label string) transport.Config {
	return transport.Config{
		Identity:          cred.identity,
		Suite:             pqc.DefaultSuite(),
		Policy:            policy,
		TickInterval:      testTick,
		RetransmitInitial: testRetransmitInitial,
		HandshakeTimeout:  testHandshakeTimeout,
		Rand:              seededRand(seed, label),
	}
}

// testNode is one endpoint of a test cluster.
type testNode struct {
	cred credential
	addr string
	conn *fakenet.Conn
	ep   *transport.Endpoint
}

// id is the node's NodeID.
func (n *testNode) id() core.NodeID { return n.ep.NodeID() }

// cluster is a set of endpoints on one fake network.
type cluster struct {
	seed  int64
	net   *fakenet.Network
	nodes []*testNode
	// starts counts endpoints started, so that a restarted node draws
	// fresh randomness rather than repeating its previous life's.
	starts int
}

// clusterOptions says how to build a cluster: which credentials, which
// policy for node i, and a last adjustment of each config.
type clusterOptions struct {
	creds  []credential
	policy func(i int) transport.PeerPolicy
	tune   func(i int, c *transport.Config)
}

// newCluster starts one endpoint per credential at nodeAddr(i) on a fake
// network seeded with seed. Every endpoint closes at cleanup.
func newCluster(t testing.TB, seed int64, opts clusterOptions) *cluster {
	t.Helper()
	f := pkiFixture(t)
	if opts.policy == nil {
		opts.policy = func(int) transport.PeerPolicy { return transport.PeerPolicy{Trust: f.cluster.trust()} }
	}
	c := &cluster{seed: seed, net: fakenet.New(seed)}
	t.Cleanup(func() {
		if t.Failed() {
			c.logMetrics(t)
		}
	})
	for i, cred := range opts.creds {
		c.nodes = append(c.nodes, c.start(t, cred, nodeAddr(i), opts.policy(i), func(cfg *transport.Config) {
			if opts.tune != nil {
				opts.tune(i, cfg)
			}
		}))
	}
	return c
}

// start runs one more endpoint on the cluster's network.
func (c *cluster) start(t testing.TB, cred credential, addr string, policy transport.PeerPolicy, tune func(*transport.Config)) *testNode {
	t.Helper()
	conn, err := c.net.Listen(addr)
	require.NoError(t, err, "seed %d: listen %s", c.seed, addr)
	c.starts++
	cfg := nodeConfig(cred, policy, c.seed, fmt.Sprintf("%s %s #%d", addr, cred.name, c.starts))
	if tune != nil {
		tune(&cfg)
	}
	ep, err := transport.Listen(conn, cfg)
	require.NoError(t, err, "seed %d: start %s", c.seed, cred.name)
	t.Cleanup(func() { ep.Close() })
	return &testNode{cred: cred, addr: addr, conn: conn, ep: ep}
}

// close closes every endpoint and waits for in-flight packets.
func (c *cluster) close() {
	for _, n := range c.nodes {
		n.ep.Close()
	}
	c.net.Wait()
}

// firstCreds returns the first n honest credentials of the fixture.
func firstCreds(t testing.TB, n int) []credential {
	f := pkiFixture(t)
	return append([]credential(nil), f.nodes[:n]...)
}

// connect dials node j from node i and returns both ends of the session.
func (c *cluster) connect(t testing.TB, i, j int) (*transport.Session, *transport.Session) {
	t.Helper()
	a, b := c.nodes[i], c.nodes[j]
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	sa, err := a.ep.Dial(ctx, b.addr)
	require.NoError(t, err, "seed %d: %s dials %s", c.seed, a.cred.name, b.cred.name)
	return sa, c.peerSession(t, b, a.id())
}

// peerSession waits until node n holds a session with peer.
func (c *cluster) peerSession(t testing.TB, n *testNode, peer core.NodeID) *transport.Session {
	t.Helper()
	var s *transport.Session
	require.Eventually(t, func() bool {
		var ok bool
		s, ok = n.ep.Session(peer)
		return ok
	}, dialTimeout, 5*time.Millisecond, "seed %d: %s never got a session with %s", c.seed, n.cred.name, peer.Short())
	return s
}

// pairSessions are both ends of the session of every pair i < j.
type pairSessions map[[2]int][2]*transport.Session

// connectAll dials every pair at once (node i dials node j for i < j) and
// returns the sessions.
func (c *cluster) connectAll(t testing.TB) pairSessions {
	t.Helper()
	type result struct {
		pair [2]int
		err  error
	}
	var wg sync.WaitGroup
	results := make(chan result, len(c.nodes)*len(c.nodes))
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	for i := range c.nodes {
		for j := i + 1; j < len(c.nodes); j++ {
			wg.Go(func() {
				_, err := c.nodes[i].ep.Dial(ctx, c.nodes[j].addr)
				results <- result{[2]int{i, j}, err}
			})
		}
	}
	wg.Wait()
	close(results)
	for r := range results {
		require.NoError(t, r.err, "seed %d: %s dials %s", c.seed, c.nodes[r.pair[0]].cred.name, c.nodes[r.pair[1]].cred.name)
	}
	out := make(pairSessions)
	for i := range c.nodes {
		for j := i + 1; j < len(c.nodes); j++ {
			si := c.peerSession(t, c.nodes[i], c.nodes[j].id())
			sj := c.peerSession(t, c.nodes[j], c.nodes[i].id())
			out[[2]int{i, j}] = [2]*transport.Session{si, sj}
		}
	}
	return out
}

// roundTrip sends a message each way over a session pair and checks it
// arrives intact.
func roundTrip(ctx context.Context, a, b *transport.Session, label string) error {
	for _, dir := range []struct {
		from, to *transport.Session
		msg      string
	}{{a, b, label + " ->"}, {b, a, label + " <-"}} {
		if err := dir.from.Send(ctx, []byte(dir.msg)); err != nil {
			return fmt.Errorf("%s: send: %w", dir.msg, err)
		}
		got, err := dir.to.Receive(ctx)
		if err != nil {
			return fmt.Errorf("%s: receive: %w", dir.msg, err)
		}
		if string(got) != dir.msg {
			return fmt.Errorf("%s: received %q", dir.msg, got)
		}
	}
	return nil
}

// logMetrics logs every node's transport counters, to diagnose a failure.
func (c *cluster) logMetrics(t testing.TB) {
	for _, n := range c.nodes {
		m := n.ep.Metrics()
		t.Logf("seed %d: %s: sessions %d (opened %d, closed %d), handshakes %d (failed %v), rekeys %d, packets in/out %d/%d, drops: replay %d auth %d unknown-index %d expired %d malformed %d queue %d",
			c.seed, n.cred.name, m.Sessions, m.SessionsOpened, m.SessionsClosed, m.HandshakesCompleted, m.HandshakeFailures, m.Rekeys,
			m.PacketsIn, m.PacketsOut, m.ReplayDrops, m.AuthFailures, m.UnknownIndex, m.ExpiredKeyDrops, m.MalformedDrops, m.QueueDrops)
	}
}
