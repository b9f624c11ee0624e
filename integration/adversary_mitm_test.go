package integration_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest/fakenet"
	"github.com/snowmerak/clustering/transport"
)

// interceptor is a hook that puts Mallory between A and B at the address
// level: everything A sends to B and B sends to A goes to Mallory, and what
// Mallory sends to either seems to come from the other.
func interceptor(a, b, mallory netip.AddrPort) fakenet.Hook {
	return func(p *fakenet.Packet) fakenet.Verdict {
		switch {
		case p.From == a && p.To == b, p.From == b && p.To == a:
			p.To = mallory
		case p.From == mallory && p.To == a:
			p.From = b
		case p.From == mallory && p.To == b:
			p.From = a
		}
		return fakenet.Deliver
	}
}

// Mallory sits between A and B and terminates both handshakes with her own
// valid certificate from another root: A's Dial of B reaches her, and she
// dials B posing as A. Both honest nodes refuse her chain with the
// policy's reason (untrusted), no session opens, and once she is gone A
// and B connect as usual.
func TestManInTheMiddleWithAnotherRootIsRefused(t *testing.T) {
	forEachSeed(t, func(t *testing.T, seed int64) {
		f := pkiFixture(t)
		c := newCluster(t, seed, clusterOptions{creds: firstCreds(t, 2)})
		a, b := c.nodes[0], c.nodes[1]
		// Mallory accepts the honest nodes, so every refusal is theirs.
		m := c.start(t, f.mallory, mallorysAddr, transport.PeerPolicy{Pinned: []core.NodeID{a.id(), b.id()}}, nil)
		c.net.SetHook(interceptor(a.conn.AddrPort(), b.conn.AddrPort(), m.conn.AddrPort()))

		ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
		defer cancel()
		var wg sync.WaitGroup
		var errA, errM error
		wg.Go(func() { _, errA = a.ep.Dial(ctx, b.addr) })
		wg.Go(func() { _, errM = m.ep.Dial(ctx, b.addr) })
		wg.Wait()

		var he *transport.HandshakeError
		require.ErrorIs(t, errA, transport.ErrRefused, "seed %d: A's Dial", seed)
		require.True(t, errors.As(errA, &he), "seed %d", seed)
		assert.Equal(t, transport.ReasonUntrusted, he.Reason, "seed %d: A's reason", seed)
		require.ErrorIs(t, errM, transport.ErrRefusedByPeer, "seed %d: Mallory's Dial of B", seed)
		require.True(t, errors.As(errM, &he), "seed %d", seed)
		assert.Equal(t, transport.ReasonUntrusted, he.Reason, "seed %d: B's reason", seed)
		assert.NotZero(t, a.ep.Metrics().HandshakeFailures[transport.ReasonUntrusted], "seed %d: A counts the refusal", seed)
		assert.NotZero(t, b.ep.Metrics().HandshakeFailures[transport.ReasonUntrusted], "seed %d: B counts the refusal", seed)
		for _, n := range []*testNode{a, b, m} {
			assert.Zero(t, n.ep.Metrics().SessionsOpened, "seed %d: %s opened a session", seed, n.cred.name)
		}

		c.net.SetHook(nil)
		sa, sb := c.connect(t, 0, 1)
		assert.Equal(t, b.id(), sa.PeerID(), "seed %d", seed)
		require.NoError(t, roundTrip(ctx, sa, sb, "without Mallory"), "seed %d", seed)
	})
}

// relay is an on-path adversary with its own socket: A's packets to B are
// diverted to it, and it forwards them to B from its own address, and B's
// answers back to A as if from B. It keeps a copy of everything, and can
// flip a byte in every fourth record it forwards.
type relay struct {
	conn   *fakenet.Conn
	net    *fakenet.Network
	a, b   netip.AddrPort
	tamper atomic.Bool

	mu       sync.Mutex
	seen     [][]byte
	tampered int
}

func (r *relay) run() {
	buf := make([]byte, 2048)
	for i := 0; ; i++ {
		n, from, err := r.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		p := append([]byte(nil), buf[:n]...)
		r.mu.Lock()
		r.seen = append(r.seen, append([]byte(nil), p...))
		if r.tamper.Load() && i%4 == 0 && isRecord(p) {
			p[len(p)-1] ^= 0x01
			r.tampered++
		}
		r.mu.Unlock()
		if from.String() == r.b.String() {
			r.net.Inject(r.b, r.a, p)
		} else {
			r.conn.WriteTo(p, net.UDPAddrFromAddrPort(r.b))
		}
	}
}

// contains reports whether any relayed packet holds needle.
func (r *relay) contains(needle []byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.seen {
		if bytes.Contains(p, needle) {
			return true
		}
	}
	return false
}

// An adversary relays every packet between A and B. The session still
// forms between the honest nodes (each names the other), although B only
// ever sees the relay's address; the relay sees neither the messages nor
// the nodes' certificates in clear; and when it starts altering records,
// they are refused and the messages still arrive intact.
func TestRelayingAdversaryCannotReadOrAlterTraffic(t *testing.T) {
	forEachSeed(t, func(t *testing.T, seed int64) {
		c := newCluster(t, seed, clusterOptions{creds: firstCreds(t, 2)})
		a, b := c.nodes[0], c.nodes[1]
		conn, err := c.net.Listen("10.6.6.7:9000")
		require.NoError(t, err)
		r := &relay{conn: conn, net: c.net, a: a.conn.AddrPort(), b: b.conn.AddrPort()}
		go r.run()
		t.Cleanup(func() { conn.Close() })
		c.net.SetHook(func(p *fakenet.Packet) fakenet.Verdict {
			if p.From == r.a && p.To == r.b {
				p.To = conn.AddrPort()
			}
			return fakenet.Deliver
		})

		sa, sb := c.connect(t, 0, 1)
		assert.Equal(t, b.id(), sa.PeerID(), "seed %d: A's session names B", seed)
		assert.Equal(t, a.id(), sb.PeerID(), "seed %d: B's session names A", seed)
		assert.Equal(t, "10.6.6.7:9000", sb.RemoteAddr().String(), "seed %d: B sees the relay", seed)

		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		secret := fmt.Appendf(nil, "the launch code is %d", seed)
		require.NoError(t, sa.Send(ctx, secret), "seed %d", seed)
		got, err := sb.Receive(ctx)
		require.NoError(t, err, "seed %d", seed)
		require.Equal(t, secret, got, "seed %d", seed)
		assert.False(t, r.contains(secret), "seed %d: the relay read a message", seed)
		for _, n := range []*testNode{a, b} {
			assert.False(t, r.contains(n.cred.leaf.Raw[len(n.cred.leaf.Raw)-200:]), "seed %d: the relay saw %s's certificate", seed, n.cred.name)
			assert.False(t, r.contains([]byte(n.cred.name+".cluster.internal")), "seed %d: the relay saw %s's name", seed, n.cred.name)
		}

		before := b.ep.Metrics().AuthFailures + a.ep.Metrics().AuthFailures
		r.tamper.Store(true)
		for i := range 20 {
			require.NoError(t, roundTrip(ctx, sa, sb, fmt.Sprintf("altered %d", i)), "seed %d", seed)
		}
		r.tamper.Store(false)
		require.NoError(t, roundTrip(ctx, sa, sb, "after"), "seed %d", seed)
		r.mu.Lock()
		tampered := r.tampered
		r.mu.Unlock()
		refused := b.ep.Metrics().AuthFailures + a.ep.Metrics().AuthFailures - before
		require.NotZero(t, tampered, "seed %d: the relay altered nothing", seed)
		assert.Equal(t, uint64(tampered), refused, "seed %d: every altered record must fail authentication", seed)
		require.NoError(t, sa.Err(), "seed %d", seed)
		require.NoError(t, sb.Err(), "seed %d", seed)
	})
}
