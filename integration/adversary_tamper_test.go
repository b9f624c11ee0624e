package integration_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core/coretest/fakenet"
	"github.com/snowmerak/clustering/transport"
)

// flipper is an adversary hook that flips bits in chosen packets from one
// endpoint to another.
type flipper struct {
	from, to string
	// match picks the packets to damage; damage changes one in place.
	match  func(b []byte) bool
	damage func(b []byte)
	// every damages every matching packet; otherwise only the first.
	every bool
	// period damages one matching packet in period (1: all).
	period int

	seen, damaged atomic.Int64
	on            atomic.Bool
}

func (f *flipper) hook(p *fakenet.Packet) fakenet.Verdict {
	if !f.on.Load() || p.From.String() != f.from || p.To.String() != f.to || !f.match(p.Payload) {
		return fakenet.Deliver
	}
	n := f.seen.Add(1)
	if !f.every && f.damaged.Load() > 0 || f.period > 1 && n%int64(f.period) != 0 {
		return fakenet.Deliver
	}
	f.damage(p.Payload)
	f.damaged.Add(1)
	return fakenet.Deliver
}

// isRecord matches record datagrams long enough to hold a ciphertext.
func isRecord(b []byte) bool { return len(b) > recordHeaderSize+recordTagSize && b[0] == typeRecord }

// flipAt returns a damage function flipping mask at offset (negative:
// from the end).
func flipAt(offset int, mask byte) func([]byte) {
	return func(b []byte) {
		i := offset
		if i < 0 {
			i += len(b)
		}
		b[i] ^= mask
	}
}

// Records are damaged in flight at every offset class of the record format,
// one record in three from the sender: every damaged record is refused
// (counted by the refusal counter its class should reach, and no honest
// record is refused), and every message still arrives intact because KCP
// resends what was refused.
func TestTamperedRecordsAreRefused(t *testing.T) {
	cases := []struct {
		name   string
		damage func([]byte)
		// counter is the refusal counter the damaged records must reach; nil
		// when the class may reach more than one (only the total is checked).
		counter func(transport.Metrics) uint64
	}{
		{"type byte", flipAt(0, 0x80), func(m transport.Metrics) uint64 { return m.MalformedDrops }},
		{"reserved header byte", flipAt(2, 0x01), nil},
		{"receiver index", flipAt(recordIndexOffset+3, 0x01), func(m transport.Metrics) uint64 { return m.UnknownIndex }},
		{"counter low bit", flipAt(recordCounterOffset+7, 0x01), nil},
		{"counter high bit", flipAt(recordCounterOffset, 0x80), nil},
		{"encrypted content type", flipAt(recordHeaderSize, 0x01), func(m transport.Metrics) uint64 { return m.AuthFailures }},
		{"ciphertext body", flipAt(recordHeaderSize+5, 0x10), func(m transport.Metrics) uint64 { return m.AuthFailures }},
		{"authentication tag", flipAt(-1, 0x01), func(m transport.Metrics) uint64 { return m.AuthFailures }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			forEachSeed(t, func(t *testing.T, seed int64) {
				c := newCluster(t, seed, clusterOptions{creds: firstCreds(t, 2)})
				a, b := c.nodes[0], c.nodes[1]
				sa, sb := c.connect(t, 0, 1)
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				require.NoError(t, roundTrip(ctx, sa, sb, "before"), "seed %d", seed)
				time.Sleep(50 * time.Millisecond)
				before := b.ep.Metrics()
				f := &flipper{from: a.addr, to: b.addr, match: isRecord, damage: tc.damage, every: true, period: 3}
				f.on.Store(true)
				c.net.SetHook(f.hook)
				for i := range 30 {
					require.NoError(t, roundTrip(ctx, sa, sb, fmt.Sprintf("message %d", i)), "seed %d", seed)
				}
				f.on.Store(false)
				require.NoError(t, roundTrip(ctx, sa, sb, "after"), "seed %d", seed)
				after := b.ep.Metrics()

				damaged := uint64(f.damaged.Load())
				require.NotZero(t, damaged, "seed %d: nothing was damaged", seed)
				assert.Equal(t, damaged, refusals(after)-refusals(before), "seed %d: refused records ≠ damaged records (%d)", seed, damaged)
				if tc.counter != nil {
					assert.Equal(t, damaged, tc.counter(after)-tc.counter(before), "seed %d: damaged records reached another counter", seed)
				}
				assert.Equal(t, a.addr, sb.RemoteAddr().String(), "seed %d", seed)
				require.NoError(t, sa.Err(), "seed %d", seed)
				require.NoError(t, sb.Err(), "seed %d", seed)
			})
		})
	}
}

// Handshake offsets (PROTOCOL.md §2): M1 after its fragment header is
// version u8, suite u32, initiator index u32, Ni[32], hint[32], epkLen
// u16, epk; M2's clear part is two indices, Nr[32], ctLen u16, ct.
const (
	m1EphemeralKey = fragmentHeaderSize + 1 + 4 + 4 + 32 + 32 + 2
	m2Ciphertext   = fragmentHeaderSize + 4 + 4 + 32 + 2
)

// isFragment matches fragment idx (-1: the last) of handshake message typ.
func isFragment(typ byte, idx int) func([]byte) bool {
	return func(b []byte) bool {
		if len(b) < fragmentHeaderSize || b[0] != typ {
			return false
		}
		if idx < 0 {
			return b[1] == b[2]-1
		}
		return int(b[1]) == idx
	}
}

// A bit is flipped in one handshake message at each offset class, in every
// copy sent (so retransmission cannot help) or in the first copy only. A
// handshake damaged in every copy fails closed: the Dial returns a
// *transport.HandshakeError and neither side opens a session. One damaged
// once either completes between the honest peers or fails the same way,
// and a new Dial then succeeds.
func TestTamperedHandshakeFailsClosed(t *testing.T) {
	cases := []struct {
		name           string
		initiatorsSide bool // the damaged message is the initiator's (M1, M3)
		match          func([]byte) bool
		damage         func([]byte)
	}{
		{"M1 fragment header", true, isFragment(typeM1, 0), flipAt(2, 0x40)},
		{"M1 version", true, isFragment(typeM1, 0), flipAt(fragmentHeaderSize, 0x01)},
		{"M1 suite", true, isFragment(typeM1, 0), flipAt(fragmentHeaderSize+4, 0x01)},
		{"M1 ephemeral key", true, isFragment(typeM1, 0), flipAt(m1EphemeralKey+100, 0x01)},
		{"M1 padding", true, isFragment(typeM1, -1), flipAt(-1, 0x01)},
		{"M2 KEM ciphertext", false, isFragment(typeM2, 0), flipAt(m2Ciphertext+50, 0x01)},
		{"M2 sealed identity", false, isFragment(typeM2, -1), flipAt(-20, 0x01)},
		{"M3 sealed identity", true, isFragment(typeM3, -1), flipAt(-20, 0x01)},
	}
	for _, tc := range cases {
		for _, every := range []bool{true, false} {
			mode := "every copy"
			if !every {
				mode = "first copy only"
			}
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				t.Parallel()
				forEachSeed(t, func(t *testing.T, seed int64) {
					c := newCluster(t, seed, clusterOptions{
						creds: firstCreds(t, 2),
						tune:  func(_ int, cfg *transport.Config) { cfg.HandshakeTimeout = 4 * time.Second },
					})
					a, b := c.nodes[0], c.nodes[1]
					f := &flipper{from: a.addr, to: b.addr, match: tc.match, damage: tc.damage, every: every}
					if !tc.initiatorsSide {
						f.from, f.to = b.addr, a.addr
					}
					f.on.Store(true)
					c.net.SetHook(f.hook)
					ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
					defer cancel()
					s, err := a.ep.Dial(ctx, b.addr)
					require.NotZero(t, f.damaged.Load(), "seed %d: nothing was damaged", seed)
					if err == nil {
						require.False(t, every, "seed %d: a handshake damaged in every copy succeeded", seed)
						assert.Equal(t, b.id(), s.PeerID(), "seed %d", seed)
						sb := c.peerSession(t, b, a.id())
						require.NoError(t, roundTrip(ctx, s, sb, "after a damaged handshake"), "seed %d", seed)
						return
					}
					var he *transport.HandshakeError
					require.True(t, errors.As(err, &he), "seed %d: want a *transport.HandshakeError, got %v", seed, err)
					t.Logf("refused: %v", err)
					time.Sleep(200 * time.Millisecond)
					assert.Zero(t, a.ep.Metrics().Sessions, "seed %d: initiator holds a session", seed)
					assert.Zero(t, b.ep.Metrics().Sessions, "seed %d: responder holds a session", seed)
					_, ok := b.ep.Session(a.id())
					assert.False(t, ok, "seed %d", seed)
					if every {
						return
					}
					f.on.Store(false)
					s, err = a.ep.Dial(ctx, b.addr)
					require.NoError(t, err, "seed %d: the Dial after the damaged one", seed)
					assert.Equal(t, b.id(), s.PeerID(), "seed %d", seed)
				})
			})
		}
	}
}

// Garbage is injected at a node while it exchanges messages: random bytes
// under every datagram type, from spoofed addresses and from the peer's
// own, and forged records under the live session's index. All of it is
// dropped; the session neither moves nor breaks, no other session opens,
// and every message arrives intact.
func TestInjectedGarbageIsDropped(t *testing.T) {
	forEachSeed(t, func(t *testing.T, seed int64) {
		c := newCluster(t, seed, clusterOptions{creds: firstCreds(t, 2)})
		a, b := c.nodes[0], c.nodes[1]
		tap := newWiretap(a.addr, b.addr, typeRecord)
		c.net.SetHook(tap.hook)
		sa, sb := c.connect(t, 0, 1)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, roundTrip(ctx, sa, sb, "before"), "seed %d", seed)
		records := tap.stop()
		c.net.SetHook(nil)
		require.NotEmpty(t, records)
		liveHeader := records[len(records)-1][:recordIndexOffset+4]
		before := b.ep.Metrics()

		rng := newPacketRand(seed)
		var wg sync.WaitGroup
		const injected = 3000
		wg.Go(func() {
			for i := range injected {
				from := rng.spoofedAddr()
				if i%4 == 0 {
					from = a.conn.AddrPort()
				}
				c.net.Inject(from, b.conn.AddrPort(), rng.garbage(i, liveHeader))
				if i%100 == 0 {
					time.Sleep(time.Millisecond)
				}
			}
		})
		for i := range 50 {
			require.NoError(t, roundTrip(ctx, sa, sb, fmt.Sprintf("message %d", i)), "seed %d", seed)
		}
		wg.Wait()
		require.NoError(t, roundTrip(ctx, sa, sb, "after"), "seed %d", seed)

		after := b.ep.Metrics()
		t.Logf("%d injected: refused %d records (auth %d, unknown index %d, malformed %d), reassembly drops %d, cookie replies %d",
			injected, refusals(after)-refusals(before), after.AuthFailures-before.AuthFailures, after.UnknownIndex-before.UnknownIndex,
			after.MalformedDrops-before.MalformedDrops, after.ReassemblyDrops-before.ReassemblyDrops, after.CookieReplies-before.CookieReplies)
		assert.Equal(t, before.SessionsOpened, after.SessionsOpened, "seed %d: garbage opened a session", seed)
		assert.Equal(t, 1, after.Sessions, "seed %d", seed)
		assert.NotZero(t, after.AuthFailures-before.AuthFailures, "seed %d: forged records under the live index must fail authentication", seed)
		assert.NotZero(t, after.MalformedDrops-before.MalformedDrops, "seed %d: malformed garbage must be counted", seed)
		assert.Equal(t, a.addr, sb.RemoteAddr().String(), "seed %d: garbage moved the session", seed)
		require.NoError(t, sa.Err(), "seed %d", seed)
		require.NoError(t, sb.Err(), "seed %d", seed)
	})
}
