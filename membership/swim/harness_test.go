package swim_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest"
	"github.com/snowmerak/clustering/core/coretest/sim"
	"github.com/snowmerak/clustering/membership/swim"
)

var (
	seedFlag = flag.Int64("swim.seed", 1, "seed of the simulation tests")
	longFlag = flag.Bool("swim.long", false, "run the heavier simulation variants (more seeds, bigger clusters)")
)

var epoch = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// lanLink is a data-centre link: 0.2–0.5 ms one way.
var lanLink = sim.Link{Latency: 200 * time.Microsecond, Jitter: 300 * time.Microsecond}

// observed is one event as one member saw it, at a virtual time.
type observed struct {
	at       time.Duration // since the cluster's epoch
	observer int
	ev       swim.Event
}

// cluster is a simulated cluster of swim Nodes over a sim.Network.
type cluster struct {
	t       testing.TB
	seed    int64
	clock   *sim.Clock
	net     *sim.Network
	cfg     swim.Config
	signers []core.Signer
	ids     []core.NodeID
	keys    swim.StaticKeys
	eps     []*sim.Endpoint
	nodes   []*swim.Node
	events  []observed
	// credential, if set, is every node's Config.Credential.
	credential []byte
	// onEvent, if set, also sees every event as it is delivered.
	onEvent func(observer int, ev swim.Event)
	// keysOf, if set, gives node i a key resolver of its own (nil: keys).
	keysOf func(i int) swim.KeyResolver
}

// newCluster prepares size identities (all in the allow-list) without
// starting any node.
func newCluster(t testing.TB, size int, seed int64, cfg swim.Config, scheme core.SignatureScheme) *cluster {
	t.Helper()
	if scheme == nil {
		scheme = coretest.Ed25519
	}
	c := &cluster{t: t, seed: seed, cfg: cfg, keys: swim.StaticKeys{}}
	memo := &verifyMemo{results: make(map[[32]byte]bool)}
	c.clock = sim.NewClock(epoch)
	c.net = sim.NewNetwork(c.clock, seed)
	c.net.SetDefaultLink(lanLink)
	for i := range size {
		s := sha256.Sum256(fmt.Appendf(nil, "swim-sim/%d/%d", seed, i))
		signer, err := scheme.NewKeyFromSeed(s[:scheme.SeedSize()])
		require.NoError(t, err)
		c.signers = append(c.signers, signer)
		id := core.NodeIDOf(signer.Public())
		c.ids = append(c.ids, id)
		c.keys[id] = &sharedVerifyKey{PublicKey: signer.Public(), results: memo}
	}
	c.eps = make([]*sim.Endpoint, size)
	c.nodes = make([]*swim.Node, size)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("simulation seed %d (rerun with -swim.seed=%d)", seed, seed)
		}
	})
	return c
}

func (c *cluster) addr(i int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 7946)
}

// start creates node i on the network.
func (c *cluster) start(i int) *swim.Node {
	c.t.Helper()
	if c.eps[i] == nil {
		ep, err := c.net.Attach(core.Peer{ID: c.ids[i], Addr: c.addr(i)})
		require.NoError(c.t, err)
		c.eps[i] = ep
	}
	cfg := c.cfg
	cfg.Signer = c.signers[i]
	cfg.Keys = c.keys
	if c.keysOf != nil {
		if k := c.keysOf(i); k != nil {
			cfg.Keys = k
		}
	}
	cfg.Meta = swim.Meta{Zone: fmt.Sprintf("z%d", i%3), Weight: 1, Addr: c.addr(i)}
	cfg.Rand = rand.New(rand.NewPCG(uint64(c.seed), uint64(i)))
	cfg.Credential = c.credential
	cfg.Events = func(ev swim.Event) {
		c.events = append(c.events, observed{at: c.clock.Now().Sub(epoch), observer: i, ev: ev})
		if c.onEvent != nil {
			c.onEvent(i, ev)
		}
	}
	n, err := swim.New(cfg, c.eps[i], c.clock)
	require.NoError(c.t, err)
	c.nodes[i] = n
	return n
}

func (c *cluster) peer(i int) core.Peer { return core.Peer{ID: c.ids[i], Addr: c.addr(i)} }

// bootstrap starts nodes [0, size) and joins each to a random earlier one,
// then runs until every node sees every other alive.
func (c *cluster) bootstrap(size int) {
	c.t.Helper()
	c.start(0)
	rng := rand.New(rand.NewPCG(uint64(c.seed), 99))
	for i := 1; i < size; i++ {
		c.start(i)
		_, err := c.nodes[i].Join(context.Background(), []core.Peer{c.peer(rng.IntN(i))})
		require.NoError(c.t, err)
		c.clock.RunFor(10 * time.Millisecond)
	}
	all := c.indices(size)
	_, ok := c.runUntil(5*time.Minute, func() bool { return c.allSee(all, all, swim.StateAlive) })
	require.True(c.t, ok, "cluster of %d did not converge", size)
}

func (c *cluster) indices(size int) []int {
	out := make([]int, size)
	for i := range out {
		out[i] = i
	}
	return out
}

// runUntil advances virtual time in 50 ms steps until cond holds or limit
// passes, and returns the time it took.
func (c *cluster) runUntil(limit time.Duration, cond func() bool) (time.Duration, bool) {
	start := c.clock.Now()
	for c.clock.Now().Sub(start) < limit {
		if cond() {
			return c.clock.Now().Sub(start), true
		}
		c.clock.RunFor(50 * time.Millisecond)
	}
	return c.clock.Now().Sub(start), cond()
}

// state returns what observer thinks of subject (0 if unknown).
func (c *cluster) state(observer, subject int) swim.State {
	m, ok := c.nodes[observer].Member(c.ids[subject])
	if !ok {
		return 0
	}
	return m.State
}

// allSee reports whether every observer sees every subject in state s.
func (c *cluster) allSee(observers, subjects []int, s swim.State) bool {
	for _, o := range observers {
		for _, j := range subjects {
			if o != j && c.state(o, j) != s {
				return false
			}
		}
	}
	return true
}

// sharedVerifyKey is a public key whose verifications are shared by every
// simulated node: all of them verify the same records with the same keys,
// and Verify is a pure function, so the real check runs once per distinct
// (key, message, context, signature) and its result is reused. Each node's
// own logic (its verification cache, its counters) is unaffected.
type sharedVerifyKey struct {
	core.PublicKey
	results *verifyMemo
}

type verifyMemo struct {
	mu      sync.Mutex
	results map[[32]byte]bool
}

func (k *sharedVerifyKey) Verify(message, context, sig []byte) bool {
	h := sha256.New()
	for _, part := range [][]byte{k.Bytes(), context, message, sig} {
		binary.Write(h, binary.BigEndian, uint32(len(part)))
		h.Write(part)
	}
	var sum [32]byte
	h.Sum(sum[:0])
	k.results.mu.Lock()
	ok, seen := k.results.results[sum]
	k.results.mu.Unlock()
	if !seen {
		ok = k.PublicKey.Verify(message, context, sig)
		k.results.mu.Lock()
		k.results.results[sum] = ok
		k.results.mu.Unlock()
	}
	return ok
}

// index returns the cluster index of a NodeID.
func (c *cluster) index(id core.NodeID) int {
	return slices.Index(c.ids, id)
}

// eventsAbout returns the events of kind k about subject, in order.
func (c *cluster) eventsAbout(subject int, k swim.EventKind) []observed {
	var out []observed
	for _, o := range c.events {
		if o.ev.Kind == k && o.ev.Member.ID == c.ids[subject] {
			out = append(out, o)
		}
	}
	return out
}

// viewDigest summarises observer's view (ID, state, incarnation of everyone).
func (c *cluster) viewDigest(observer int) []byte {
	var b bytes.Buffer
	for _, m := range c.nodes[observer].Members() {
		b.Write(m.ID[:])
		b.WriteByte(byte(m.State))
		binary.Write(&b, binary.BigEndian, m.Incarnation)
	}
	return b.Bytes()
}

// traffic measures the network's traffic per live node per second over a window.
type traffic struct {
	start time.Time
	base  sim.Stats
}

func (c *cluster) meter() traffic { return traffic{start: c.clock.Now(), base: c.net.Total()} }

// rates returns messages and bytes sent per node per second since the meter started.
func (c *cluster) rates(m traffic, nodes int) (msgs, bytes float64) {
	d := c.net.Total()
	secs := c.clock.Now().Sub(m.start).Seconds() * float64(nodes)
	msgs = float64(d.DatagramsSent-m.base.DatagramsSent+d.Requests-m.base.Requests) / secs
	bytes = float64(d.DatagramBytesSent-m.base.DatagramBytesSent+d.RequestBytes-m.base.RequestBytes+d.ReplyBytes-m.base.ReplyBytes) / secs
	return msgs, bytes
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
