package transport

import (
	"crypto/rand"
	"crypto/x509/pkix"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core/coretest"
	"github.com/snowmerak/clustering/core/coretest/fakenet"
	"github.com/snowmerak/clustering/pki"
)

// craftM1 builds a well-formed M1 (fresh key and nonce) as fragments.
func craftM1(t testing.TB, index uint32) [][]byte {
	t.Helper()
	suite := coretest.Suite()
	dk, err := suite.KEM.GenerateKey(nil)
	require.NoError(t, err)
	m := m1{version: protocolVersion, suite: suite.ID(), initIndex: index, epk: dk.PublicKey()}
	_, err = rand.Read(m.nonce[:])
	require.NoError(t, err)
	return fragmentMessage(typeM1, index, m.marshal())
}

// m1HasCookie reports whether pk is the fragment of an M1 (with the test
// suite's key size) holding a non-zero cookie length.
func m1HasCookie(pk *fakenet.Packet) bool {
	off := 1 + 4 + 4 + nonceSize + hintSize + 2 + coretest.Suite().KEM.PublicKeySize()
	return isFrag(pk, typeM1, off/fragmentPayload) && pk.Payload[fragmentHeaderSize+off%fragmentPayload] != 0
}

func spoofed(i int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 9, byte(i >> 8), byte(i)}), 4000)
}

// byteLedger counts the bytes each address sent and received on the wire.
type byteLedger struct {
	mu       sync.Mutex
	sent     map[netip.AddrPort]int
	received map[netip.AddrPort]int
}

func newByteLedger() *byteLedger {
	return &byteLedger{sent: map[netip.AddrPort]int{}, received: map[netip.AddrPort]int{}}
}

func (l *byteLedger) hook(pk *fakenet.Packet) fakenet.Verdict {
	l.mu.Lock()
	l.sent[pk.From] += len(pk.Payload)
	l.received[pk.To] += len(pk.Payload)
	l.mu.Unlock()
	return fakenet.Deliver
}

// A flood of M1s from spoofed sources: the responder soon answers with
// cookie replies only, and never sends any source more than 3x what that
// source sent. A genuine initiator still gets through, with a cookie.
func TestSpoofedM1FloodGetsCookiesWithinAmplificationLimit(t *testing.T) {
	p := newPair(t, func(name string, c *Config) {
		c.Limits.UnderLoadHandshakes = 4
		c.Limits.MaxHandshakes = 16
	})
	ledger := newByteLedger()
	var cookieM1 atomicCounter
	p.net.SetHook(func(pk *fakenet.Packet) fakenet.Verdict {
		if pk.From == apA && m1HasCookie(pk) {
			cookieM1.add(1)
		}
		return ledger.hook(pk)
	})
	const sources = 200
	for i := range sources {
		for _, f := range craftM1(t, uint32(i+1)) {
			p.net.Inject(spoofed(i), apB, f)
			ledger.hook(&fakenet.Packet{From: spoofed(i), To: apB, Payload: f})
		}
	}
	eventually(t, 5*time.Second, func() bool { return p.b.Metrics().CookieReplies >= sources-16 }, "cookie replies under load")
	m := p.b.Metrics()
	assert.LessOrEqual(t, m.Handshakes, 16, "concurrent handshakes exceed the bound")

	// A genuine initiator completes the handshake with a cookie.
	sa, _ := p.connect(t)
	assert.Equal(t, p.b.NodeID(), sa.PeerID())
	assert.NotZero(t, cookieM1.load(), "the initiator's M1 carried no cookie")

	ledger.mu.Lock()
	defer ledger.mu.Unlock()
	for i := range sources {
		src := spoofed(i)
		assert.LessOrEqual(t, ledger.received[src], amplificationFactor*ledger.sent[src], "source %v got more than 3x back", src)
	}
}

// A responder whose M2 would exceed 3x the M1 it received (a large chain)
// asks an unproven initiator for a cookie first, even when not under load.
func TestLargeM2WaitsForCookie(t *testing.T) {
	var big Identity
	p := newPair(t, func(name string, c *Config) {
		if name != "b" {
			return
		}
		pk := newTestPKI(t, "test")
		k := key(t, "big")
		names := make([]string, 300)
		for i := range names {
			names[i] = fmt.Sprintf("host-%03d.cluster.example.com", i)
		}
		leaf, err := pki.Issue(pki.Template{Subject: pkix.Name{CommonName: "big"}, NotBefore: testNow.Add(-day), NotAfter: testNow.Add(day), DNSNames: names}, k.Public(), pk.inter, pk.interKey, nil)
		require.NoError(t, err)
		big = Identity{Signer: k, Chain: [][]byte{leaf.Raw, pk.inter.Raw}}
		c.Identity = big
	})
	ledger := newByteLedger()
	var beforeCookie sync.Once
	var sentToA, sentByA int
	p.net.SetHook(func(pk *fakenet.Packet) fakenet.Verdict {
		if pk.From == apA && m1HasCookie(pk) {
			beforeCookie.Do(func() {
				ledger.mu.Lock()
				sentToA, sentByA = ledger.received[apA], ledger.sent[apA]
				ledger.mu.Unlock()
			})
		}
		return ledger.hook(pk)
	})
	require.Greater(t, p.b.m2WireSize(p.b.cfg.Suite, false), amplificationFactor*2*maxDatagram, "test chain too small")
	p.connect(t)
	assert.NotZero(t, p.b.Metrics().CookieReplies)
	require.NotZero(t, sentByA, "the initiator never used a cookie")
	assert.LessOrEqual(t, sentToA, amplificationFactor*sentByA)
}

// M1s that would start work are limited per source address.
func TestHandshakeRateLimitPerSource(t *testing.T) {
	p := newPair(t, func(name string, c *Config) {
		c.Limits.HandshakeRate = 0.001
		c.Limits.HandshakeBurst = 2
	})
	var m2s atomicCounter
	p.net.SetHook(func(pk *fakenet.Packet) fakenet.Verdict {
		if isFrag(pk, typeM2, 0) {
			m2s.add(1)
		}
		return fakenet.Deliver
	})
	src := netip.MustParseAddr("10.0.0.9")
	for i := range 10 {
		for _, f := range craftM1(t, uint32(100+i)) {
			p.net.Inject(netip.AddrPortFrom(src, uint16(5000+i)), apB, f)
		}
	}
	eventually(t, 2*time.Second, func() bool { return p.b.Metrics().RateLimited == 8 }, "rate limit")
	eventually(t, 2*time.Second, func() bool { return m2s.load() == 2 }, "two M2s")
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, int64(2), m2s.load(), "responder worked for rate-limited M1s")
	// Another source is unaffected.
	p.connect(t)
}

// A flood of first fragments that never complete stays within the
// reassembly bounds, and a genuine handshake still completes.
func TestReassemblyFloodStaysBounded(t *testing.T) {
	p := newPair(t, func(name string, c *Config) {
		c.Limits.MaxPendingM1 = 64
		c.Limits.MaxPendingM1PerIP = 4
	})
	one := netip.MustParseAddr("10.0.0.8")
	for i := range 2000 {
		f := craftM1(t, uint32(i+1))[0]
		from := spoofed(i)
		if i%2 == 0 {
			from = netip.AddrPortFrom(one, uint16(1000+i)) // half from one source
		}
		p.net.Inject(from, apB, f)
	}
	eventually(t, 5*time.Second, func() bool { return p.b.Metrics().ReassemblyDrops >= 2000-64 }, "evictions")
	bytes, count := p.b.m1s.memory()
	assert.LessOrEqual(t, count, 64)
	assert.LessOrEqual(t, bytes, 64*maxM1Size)
	p.b.m1s.mu.Lock()
	assert.LessOrEqual(t, p.b.m1s.bySource[one], 4)
	p.b.m1s.mu.Unlock()
	p.connect(t)
}

// Oversized and malformed fragments are dropped and counted, never parsed
// further; the endpoint keeps working.
func TestMalformedFragmentsAreDropped(t *testing.T) {
	p := newPair(t, nil)
	good := craftM1(t, 7)
	oversized := append(append([]byte(nil), good[0]...), make([]byte, 300)...)
	cases := map[string][]byte{
		"oversized datagram":      oversized,
		"truncated header":        good[0][:5],
		"reserved byte set":       func() []byte { b := append([]byte(nil), good[0]...); b[3] = 1; return b }(),
		"count disagrees":         func() []byte { b := append([]byte(nil), good[0]...); b[2] = 3; return b }(),
		"index past count":        func() []byte { b := append([]byte(nil), good[0]...); b[1] = 2; return b }(),
		"total over the maximum":  func() []byte { b := append([]byte(nil), good[0]...); b[8], b[9] = 0xff, 0xff; return b }(),
		"short middle fragment":   good[0][:len(good[0])-1],
		"unknown packet type":     {0x7f, 1, 2, 3},
		"record too short":        {byte(typeRecord), 0, 0, 0},
		"cookie reply wrong size": {byte(typeCookieReply), 0, 0},
	}
	before := p.b.Metrics().MalformedDrops
	for name, b := range cases {
		p.net.Inject(apA, apB, b)
		_ = name
	}
	eventually(t, 2*time.Second, func() bool { return p.b.Metrics().MalformedDrops-before == uint64(len(cases)) }, "every malformed datagram counted")
	bytes, count := p.b.m1s.memory()
	assert.Zero(t, count, "a malformed fragment started a reassembly")
	assert.Zero(t, bytes)
	p.connect(t)
}
