package transport

import (
	"context"
	"crypto/sha256"
	"crypto/x509/pkix"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest"
	"github.com/snowmerak/clustering/core/coretest/fakenet"
	"github.com/snowmerak/clustering/pki"
)

// kcp-go runs a package-level timer scheduler for the life of the process;
// everything else must be gone after every test.
var leakOptions = []goleak.Option{
	goleak.IgnoreTopFunction("github.com/xtaci/kcp-go/v5.(*TimedSched).sched"),
	goleak.IgnoreTopFunction("github.com/xtaci/kcp-go/v5.(*TimedSched).prepend"),
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, leakOptions...) }

// testNow is the fixed start of the test clocks; certificates are valid around it.
var testNow = time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// clock is the tests' Config.Now: it runs in real time from testNow, and
// Advance jumps it forward.
type clock struct {
	mu     sync.Mutex
	start  time.Time
	offset time.Duration
}

func newClock() *clock { return &clock{start: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return testNow.Add(c.offset + time.Since(c.start))
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// key derives a deterministic Ed25519 key from a label.
func key(t testing.TB, label string) core.Signer {
	t.Helper()
	seed := sha256.Sum256([]byte(label))
	k, err := coretest.Ed25519.NewKeyFromSeed(seed[:])
	require.NoError(t, err)
	return k
}

// testPKI is a root and an intermediate that issue node certificates.
type testPKI struct {
	root, inter       *pki.Certificate
	rootKey, interKey core.Signer
}

func newTestPKI(t testing.TB, name string) *testPKI {
	t.Helper()
	p := &testPKI{rootKey: key(t, name+" root"), interKey: key(t, name+" inter")}
	var err error
	p.root, err = pki.NewRoot(pki.Template{Subject: pkix.Name{CommonName: name + " Root"}, NotBefore: testNow.Add(-365 * day), NotAfter: testNow.Add(3650 * day), IsCA: true}, p.rootKey, nil)
	require.NoError(t, err)
	p.inter, err = pki.Issue(pki.Template{Subject: pkix.Name{CommonName: name + " Intermediate"}, NotBefore: testNow.Add(-30 * day), NotAfter: testNow.Add(1000 * day), IsCA: true}, p.interKey.Public(), p.root, p.rootKey, nil)
	require.NoError(t, err)
	return p
}

// node issues a leaf for a fresh key, valid from..to, and returns the identity.
func (p *testPKI) nodeValid(t testing.TB, name string, from, to time.Time) (Identity, *pki.Certificate) {
	t.Helper()
	k := key(t, name)
	leaf, err := pki.Issue(pki.Template{Subject: pkix.Name{CommonName: name}, NotBefore: from, NotAfter: to}, k.Public(), p.inter, p.interKey, nil)
	require.NoError(t, err)
	return Identity{Signer: k, Chain: [][]byte{leaf.Raw, p.inter.Raw}}, leaf
}

func (p *testPKI) node(t testing.TB, name string) Identity {
	id, _ := p.nodeValid(t, name, testNow.Add(-day), testNow.Add(90*day))
	return id
}

func (p *testPKI) trust() *pki.TrustStore { return pki.NewTrustStore(p.root) }

// testConfig is a config with fast timers for tests.
func testConfig(id Identity, policy PeerPolicy, clk *clock) Config {
	return Config{
		Identity:          id,
		Suite:             coretest.Suite(),
		Policy:            policy,
		Now:               clk.Now,
		TickInterval:      5 * time.Millisecond,
		RetransmitInitial: 50 * time.Millisecond,
		HandshakeTimeout:  3 * time.Second,
	}
}

// listen starts an endpoint on a fakenet address, closed at cleanup.
func listen(t testing.TB, n *fakenet.Network, addr string, cfg Config) *Endpoint {
	t.Helper()
	conn, err := n.Listen(addr)
	require.NoError(t, err)
	e, err := Listen(conn, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { e.Close() })
	return e
}

// listenUDP starts an endpoint on loopback UDP, closed at cleanup.
func listenUDP(t testing.TB, cfg Config) *Endpoint {
	t.Helper()
	e, err := ListenUDP("127.0.0.1:0", cfg)
	require.NoError(t, err)
	t.Cleanup(func() { e.Close() })
	return e
}

// pair is two endpoints that trust the same PKI.
type pair struct {
	net      *fakenet.Network
	clk      *clock
	pki      *testPKI
	a, b     *Endpoint
	aID, bID Identity
}

const addrA, addrB = "10.0.0.1:7000", "10.0.0.2:7000"

// newPair builds two endpoints on a fake network; mutate adjusts each config.
func newPair(t testing.TB, mutate func(name string, c *Config)) *pair {
	t.Helper()
	p := &pair{net: fakenet.New(1), clk: newClock(), pki: newTestPKI(t, "test")}
	p.aID, p.bID = p.pki.node(t, "node-a"), p.pki.node(t, "node-b")
	ca := testConfig(p.aID, PeerPolicy{Trust: p.pki.trust()}, p.clk)
	cb := testConfig(p.bID, PeerPolicy{Trust: p.pki.trust()}, p.clk)
	if mutate != nil {
		mutate("a", &ca)
		mutate("b", &cb)
	}
	p.a = listen(t, p.net, addrA, ca)
	p.b = listen(t, p.net, addrB, cb)
	return p
}

// connect dials b from a and accepts it on b.
func (p *pair) connect(t testing.TB) (*Session, *Session) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sa, err := p.a.Dial(ctx, addrB)
	require.NoError(t, err)
	sb, err := p.b.Accept(ctx)
	require.NoError(t, err)
	return sa, sb
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, d time.Duration, cond func() bool, msg string, args ...any) {
	t.Helper()
	require.Eventually(t, cond, d, 2*time.Millisecond, append([]any{msg}, args...)...)
}

var _ net.Addr = virtualAddr{}

// atomicCounter counts events seen by network hooks.
type atomicCounter struct{ n atomic.Int64 }

func (c *atomicCounter) add(d int64) { c.n.Add(d) }
func (c *atomicCounter) load() int64 { return c.n.Load() }
