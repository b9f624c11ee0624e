package transport

import (
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/binary"
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

// bigIdentity is a node whose chain makes M2 larger than 3x an M1, so an
// unproven initiator must fetch a cookie first.
func bigIdentity(t testing.TB) Identity {
	t.Helper()
	pk := newTestPKI(t, "test")
	k := key(t, "big")
	names := make([]string, 300)
	for i := range names {
		names[i] = fmt.Sprintf("host-%03d.cluster.example.com", i)
	}
	leaf, err := pki.Issue(pki.Template{Subject: pkix.Name{CommonName: "big"}, NotBefore: testNow.Add(-day), NotAfter: testNow.Add(day), DNSNames: names}, k.Public(), pk.inter, pk.interKey, nil)
	require.NoError(t, err)
	return Identity{Signer: k, Chain: [][]byte{leaf.Raw, pk.inter.Raw}}
}

// newM1 is a well-formed M1 with a fresh key and nonce.
func newM1(t testing.TB, index uint32) *m1 {
	t.Helper()
	suite := coretest.Suite()
	dk, err := suite.KEM.GenerateKey(nil)
	require.NoError(t, err)
	m := &m1{version: protocolVersion, suite: suite.ID(), initIndex: index, epk: dk.PublicKey()}
	_, err = rand.Read(m.nonce[:])
	require.NoError(t, err)
	return m
}

// The per-source handshake budget is keyed by a source address, which an
// M1 without a cookie does not prove. Spoofed M1s must not be able to spend
// a genuine node's budget and lock it out; a source that proves its address
// with cookies is still limited.
func TestRateLimitIsNotSpentBySpoofedSources(t *testing.T) {
	limited := func(name string, c *Config) {
		shortHandshakes(name, c)
		c.Limits.HandshakeRate = 0.001
		c.Limits.HandshakeBurst = 2
	}
	t.Run("spoofed M1s cannot lock a node out", func(t *testing.T) {
		p := newPair(t, limited)
		before := p.b.Metrics().RateLimited
		for i := range 5 { // the attacker claims a's address
			for _, f := range fragmentMessage(typeM1, uint32(900+i), newM1(t, uint32(900+i)).marshal()) {
				p.net.Inject(apA, apB, f)
			}
		}
		eventually(t, 2*time.Second, func() bool { return p.b.Metrics().RateLimited-before >= 3 }, "spoofed M1s spent the budget")
		sa, _ := p.connect(t)
		assert.Equal(t, p.b.NodeID(), sa.PeerID())
	})
	t.Run("a source that proves its address is still limited", func(t *testing.T) {
		p := newPair(t, limited)
		src := netip.MustParseAddr("10.0.0.9")
		var mu sync.Mutex
		sent := map[uint32]*m1{}
		var m2s atomicCounter
		p.net.SetHook(func(pk *fakenet.Packet) fakenet.Verdict {
			switch {
			case pk.From == apB && isFrag(pk, typeM2, 0):
				m2s.add(1)
			case pk.From == apB && pk.To.Addr() == src && packetType(pk.Payload[0]) == typeCookieReply:
				c, err := parseCookieReply(pk.Payload)
				if !assert.NoError(t, err) {
					return fakenet.Deliver
				}
				mu.Lock()
				m := sent[c.initIndex]
				mu.Unlock()
				withCookie := *m
				withCookie.cookie = c.cookie[:]
				for _, f := range fragmentMessage(typeM1, m.initIndex, withCookie.marshal()) {
					p.net.Inject(pk.To, apB, f) // the source answers its cookie
				}
			}
			return fakenet.Deliver
		})
		for i := range 10 {
			m := newM1(t, uint32(100+i))
			mu.Lock()
			sent[m.initIndex] = m
			mu.Unlock()
			for _, f := range fragmentMessage(typeM1, m.initIndex, m.marshal()) {
				p.net.Inject(netip.AddrPortFrom(src, uint16(5000+i)), apB, f)
			}
		}
		// 2 M1s start work, 8 get cookies; of the 8 that come back proven,
		// 2 start work and 6 are refused.
		eventually(t, 3*time.Second, func() bool { return m2s.load() == 4 }, "four M2s")
		eventually(t, 3*time.Second, func() bool { return p.b.Metrics().RateLimited >= 14 }, "rate limited")
		time.Sleep(50 * time.Millisecond)
		assert.Equal(t, int64(4), m2s.load(), "responder worked for rate-limited M1s")
		assert.Equal(t, uint64(8), p.b.Metrics().CookieReplies)
		p.connect(t) // another source is unaffected
	})
}

// cookieFor builds a cookie reply that echoes an M1's first fragment.
func cookieFor(frag0 []byte, cookie [cookieSize]byte) []byte {
	c := cookieReply{initIndex: binary.BigEndian.Uint32(frag0[4:8]), cookie: cookie}
	copy(c.nonce[:], frag0[fragmentHeaderSize+1+4+4:])
	return c.marshal()
}

// An attacker who sees M1 (it holds Ni) answers it with forged cookie
// replies. Each costs it 72 bytes; the initiator must not answer each with a
// whole M1 flight to the responder, and the forgeries must not stop the
// handshake from completing.
func TestForgedCookieRepliesAreContained(t *testing.T) {
	t.Run("no amplification through the initiator", func(t *testing.T) {
		p := newPair(t, func(_ string, c *Config) { c.RetransmitInitial = time.Second })
		var flights atomicCounter
		var once sync.Once
		p.net.SetHook(func(pk *fakenet.Packet) fakenet.Verdict {
			if pk.From == apA && isFrag(pk, typeM1, 0) {
				flights.add(1)
				once.Do(func() {
					for i := range 50 {
						var c [cookieSize]byte
						c[0], c[1] = 0xee, byte(i)
						p.net.Inject(netip.MustParseAddrPort("10.0.0.66:1"), apA, cookieFor(pk.Payload, c))
					}
				})
			}
			return fakenet.Deliver
		})
		sa, _ := p.connect(t)
		assert.Equal(t, p.b.NodeID(), sa.PeerID())
		assert.LessOrEqual(t, flights.load(), int64(3), "50 forged cookie replies made the initiator send %d M1 flights", flights.load())
	})
	t.Run("a forgery after every flight does not stop the handshake", func(t *testing.T) {
		p := newPair(t, func(name string, c *Config) {
			shortHandshakes(name, c)
			if name == "b" {
				c.Identity = bigIdentity(t) // b insists on a cookie
			}
		})
		var flights, forged atomicCounter
		p.net.SetHook(func(pk *fakenet.Packet) fakenet.Verdict {
			if pk.From == apA && isFrag(pk, typeM1, 0) {
				n := flights.load()
				flights.add(1)
				var c [cookieSize]byte
				c[0], c[1], c[2] = 0xee, byte(n>>8), byte(n)
				p.net.Inject(netip.MustParseAddrPort("10.0.0.66:1"), apA, cookieFor(pk.Payload, c))
				forged.add(1)
			}
			return fakenet.Deliver
		})
		sa, _ := p.connect(t)
		assert.Equal(t, p.b.NodeID(), sa.PeerID())
		assert.NotZero(t, forged.load())
		assert.LessOrEqual(t, flights.load(), int64(8), "forged cookies drove %d M1 flights", flights.load())
	})
}

// An M1 with a valid cookie proves its address, so its M2 is sent without
// the 3x budget. An attacker who recorded such an M1 replays it, claiming
// the same address, while its cookie is still accepted: the responder must
// still know the nonce and refuse, or it sends an unbudgeted M2 to a victim.
func TestReplayedProvenM1IsRefusedForTheCookiesLifetime(t *testing.T) {
	p := newPair(t, func(name string, c *Config) {
		c.IdleTimeout = time.Hour
		if name == "b" {
			c.Identity = bigIdentity(t)
		}
	})
	var mu sync.Mutex
	var frag0 []byte
	var proven [][]byte
	p.net.SetHook(func(pk *fakenet.Packet) fakenet.Verdict {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case pk.From == apA && isFrag(pk, typeM1, 0):
			frag0 = append([]byte(nil), pk.Payload...)
		case pk.From == apA && m1HasCookie(pk) && proven == nil:
			proven = [][]byte{frag0, append([]byte(nil), pk.Payload...)}
		}
		return fakenet.Deliver
	})
	sa, sb := p.connect(t)
	mu.Lock()
	replay := proven
	mu.Unlock()
	require.NotNil(t, replay, "the initiator never sent an M1 with a cookie")
	require.NoError(t, sa.Close())
	eventually(t, 2*time.Second, func() bool { return sb.Err() != nil }, "close not seen")

	var m2Bytes atomicCounter
	p.net.SetHook(func(pk *fakenet.Packet) fakenet.Verdict {
		if pk.From == apB && packetType(pk.Payload[0]) == typeM2 {
			m2Bytes.add(int64(len(pk.Payload)))
		}
		return fakenet.Deliver
	})
	elapsed := time.Duration(0)
	for _, at := range []time.Duration{30 * time.Second, 2*cookieRotation - 10*time.Second} {
		p.clk.Advance(at - elapsed)
		elapsed = at
		replays := p.b.Metrics().M1Replays
		for _, f := range replay {
			p.net.Inject(apA, apB, f)
		}
		eventually(t, 2*time.Second, func() bool { return p.b.Metrics().M1Replays > replays }, "replay %v after the handshake not refused", at)
	}
	time.Sleep(50 * time.Millisecond)
	assert.Zero(t, m2Bytes.load(), "the responder sent M2 for a replayed M1")
}

// The bound on partial M1s per source treats an IPv6 /64 as one source, as
// the rate limiter does: one host holds a whole /64, and would otherwise
// take every reassembly slot by itself.
func TestPartialM1BoundTreatsIPv6PrefixAsOneSource(t *testing.T) {
	p := newPair(t, func(_ string, c *Config) { c.Limits.MaxPendingM1PerIP = 4 })
	const n = 100
	for i := range n {
		a := [16]byte{0: 0xfd, 7: 1, 14: byte(i >> 8), 15: byte(i)}
		p.net.Inject(netip.AddrPortFrom(netip.AddrFrom16(a), 4000), apB, craftM1(t, uint32(i+1))[0])
	}
	eventually(t, 2*time.Second, func() bool { return p.b.Metrics().ReassemblyDrops >= n-4 }, "partials from one /64 not evicted")
	_, count := p.b.m1s.memory()
	assert.LessOrEqual(t, count, 4)
}
