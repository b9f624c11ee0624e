package transport

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest/fakenet"
)

func TestDialReusesSession(t *testing.T) {
	p := newPair(t, nil)
	ctx := ctxT(t, 5*time.Second)
	var wg sync.WaitGroup
	got := make([]*Session, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := p.a.Dial(ctx, addrB)
			assert.NoError(t, err)
			got[i] = s
		}()
	}
	wg.Wait()
	for _, s := range got {
		assert.Same(t, got[0], s)
	}
	again, err := p.a.Dial(ctx, addrB)
	require.NoError(t, err)
	assert.Same(t, got[0], again)
	assert.Equal(t, uint64(1), p.a.Metrics().HandshakesCompleted)
}

// Both ends dial each other at the same moment, repeatedly: every run ends
// with exactly one session, the same one on both sides.
func TestSimultaneousDialsResolveToOneSession(t *testing.T) {
	overlapped := 0
	for run := range 10 {
		p := newPair(t, nil)
		// a small delay on both links makes the handshakes overlap
		p.net.SetFaults("*", "*", fakenet.Faults{Delay: 2 * time.Millisecond, Jitter: time.Millisecond})
		var m1From sync.Map
		p.net.SetHook(func(pk *fakenet.Packet) fakenet.Verdict {
			if isFrag(pk, typeM1, 0) {
				m1From.Store(pk.From, true)
			}
			return fakenet.Deliver
		})
		ctx := ctxT(t, 10*time.Second)
		var sa, sb *Session
		var ea, eb error
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); sa, ea = p.a.Dial(ctx, addrB) }()
		go func() { defer wg.Done(); sb, eb = p.b.Dial(ctx, addrA) }()
		wg.Wait()
		require.NoError(t, ea, "run %d", run)
		require.NoError(t, eb, "run %d", run)
		assert.Equal(t, sa.id, sb.id, "run %d: the two dials got different sessions", run)
		assert.NotEqual(t, sa.initiator, sb.initiator, "run %d", run)
		assert.Equal(t, 1, p.a.Metrics().Sessions, "run %d", run)
		assert.Equal(t, 1, p.b.Metrics().Sessions, "run %d", run)
		require.NoError(t, sa.Send(ctx, []byte("ping")))
		m, err := sb.Receive(ctx)
		require.NoError(t, err)
		assert.Equal(t, "ping", string(m))
		_, fromA := m1From.Load(apA)
		_, fromB := m1From.Load(apB)
		if fromA && fromB {
			overlapped++
		}
		p.a.Close()
		p.b.Close()
	}
	assert.NotZero(t, overlapped, "no run had both handshakes in flight")
	t.Logf("%d of 10 runs had both handshakes in flight", overlapped)
}

// A peer that moves to a new address (NAT rebinding) keeps its session: the
// responder follows it after the first authenticated record from there, and
// a forged packet from elsewhere does not move the session.
func TestRoamingFollowsAuthenticatedPacketsOnly(t *testing.T) {
	n, clk := fakenet.New(1), newClock()
	pk := newTestPKI(t, "roam")
	connA, err := n.Listen(addrA)
	require.NoError(t, err)
	a, err := Listen(connA, testConfig(pk.node(t, "a"), PeerPolicy{Trust: pk.trust()}, clk))
	require.NoError(t, err)
	defer a.Close()
	b := listen(t, n, addrB, testConfig(pk.node(t, "b"), PeerPolicy{Trust: pk.trust()}, clk))
	ctx := ctxT(t, 5*time.Second)
	sa, err := a.Dial(ctx, addrB)
	require.NoError(t, err)
	sb, err := b.Accept(ctx)
	require.NoError(t, err)
	require.Equal(t, addrA, sb.RemoteAddr().String())

	// A forged record claiming to be from the new address does not move it.
	evil := netip.MustParseAddrPort("10.0.0.66:7000")
	forged := make([]byte, 64)
	forged[0] = byte(typeRecord)
	copy(forged[4:8], []byte{0, 0, 0, 0})
	kp := sb.current.Load()
	forged[4], forged[5], forged[6], forged[7] = byte(kp.localIndex>>24), byte(kp.localIndex>>16), byte(kp.localIndex>>8), byte(kp.localIndex)
	forged[15] = 200
	n.Inject(evil, apB, forged)
	eventually(t, time.Second, func() bool { return b.Metrics().AuthFailures > 0 }, "forgery refused")
	assert.Equal(t, addrA, sb.RemoteAddr().String())

	const moved = "10.0.0.77:7100"
	require.NoError(t, connA.Rebind(moved))
	require.NoError(t, sa.Send(ctx, []byte("from the new address")))
	m, err := sb.Receive(ctx)
	require.NoError(t, err)
	assert.Equal(t, "from the new address", string(m))
	assert.Equal(t, moved, sb.RemoteAddr().String())
	require.NoError(t, sb.Send(ctx, []byte("reply")))
	m, err = sa.Receive(ctx)
	require.NoError(t, err)
	assert.Equal(t, "reply", string(m))
	again, err := b.Dial(ctx, moved)
	require.NoError(t, err)
	assert.Same(t, sb, again, "the session is found at its new address")
}

// The clock jumps past the rekey time again and again while a stream carries
// data: every byte arrives intact and in order, and the stream never stalls.
func TestRekeyUnderContinuousTraffic(t *testing.T) {
	p := newPair(t, func(_ string, c *Config) { c.IdleTimeout = time.Hour })
	sa, sb := p.connect(t)
	ctx := ctxT(t, 30*time.Second)
	w, err := sa.OpenStream(ctx)
	require.NoError(t, err)
	r, err := sb.AcceptStream(ctx)
	require.NoError(t, err)

	const total = 8 << 20
	src := make([]byte, total)
	for i := range src {
		src[i] = byte(i*7 + i>>11)
	}
	want := sha256.Sum256(src)
	writeErr := make(chan error, 1)
	go func() {
		for off := 0; off < total; off += 16 << 10 {
			if _, err := w.Write(src[off : off+16<<10]); err != nil {
				writeErr <- err
				return
			}
		}
		writeErr <- w.Close()
	}()
	stop := make(chan struct{})
	var rekeys sync.WaitGroup
	rekeys.Add(1)
	go func() { // jump to the rekey time as soon as the previous rekey is done
		defer rekeys.Done()
		for {
			done := p.a.Metrics().Rekeys
			p.clk.Advance(DefaultRekeyAfter + time.Second)
			for p.a.Metrics().Rekeys == done {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		}
	}()
	h := sha256.New()
	buf := make([]byte, 32<<10)
	got := 0
	for {
		require.NoError(t, r.SetReadDeadline(time.Now().Add(5*time.Second)))
		n, err := r.Read(buf)
		h.Write(buf[:n])
		got += n
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "stream stalled or failed after %d bytes", got)
	}
	close(stop)
	rekeys.Wait()
	require.NoError(t, <-writeErr)
	assert.Equal(t, total, got)
	assert.Equal(t, want, [32]byte(h.Sum(nil)))
	assert.GreaterOrEqual(t, p.a.Metrics().Rekeys+p.b.Metrics().Rekeys, uint64(3), "too few rekeys happened")
	assert.Nil(t, sa.Err())
	assert.Nil(t, sb.Err())
}

// A session that hears nothing for the idle timeout closes, and its streams
// and receivers fail with ErrSessionTimeout.
func TestKeepaliveTimeoutClosesSessionAndFailsStreams(t *testing.T) {
	p := newPair(t, nil)
	sa, sb := p.connect(t)
	ctx := ctxT(t, 5*time.Second)
	st, err := sa.OpenStream(ctx)
	require.NoError(t, err)
	_, err = st.Write([]byte("x"))
	require.NoError(t, err)
	in, err := sb.AcceptStream(ctx)
	require.NoError(t, err)

	// Keepalives keep an idle session alive across many intervals.
	for range 4 {
		p.clk.Advance(DefaultKeepaliveInterval)
		time.Sleep(30 * time.Millisecond)
	}
	require.Nil(t, sa.Err())
	require.Nil(t, sb.Err())

	p.net.Partition([]string{addrA}, []string{addrB})
	readErr := make(chan error, 1)
	go func() {
		one := make([]byte, 1)
		io.ReadFull(in, one)
		_, err := in.Read(one)
		readErr <- err
	}()
	p.clk.Advance(DefaultIdleTimeout + time.Second)
	for _, s := range []*Session{sa, sb} {
		select {
		case <-s.Done():
		case <-time.After(3 * time.Second):
			t.Fatal("session outlived its idle timeout")
		}
		assert.ErrorIs(t, s.Err(), ErrSessionTimeout)
	}
	assert.ErrorIs(t, <-readErr, ErrSessionTimeout)
	_, err = st.Write([]byte("more"))
	assert.ErrorIs(t, err, ErrSessionTimeout)
	_, err = sb.Receive(ctx)
	assert.ErrorIs(t, err, ErrSessionTimeout)
	assert.ErrorIs(t, sa.Send(ctx, []byte("late")), ErrSessionTimeout)
}

// Close tells the peer at once: its session ends with ErrPeerClosed long
// before any timeout, and its streams fail with that error.
func TestExplicitCloseEndsPeerSessionAtOnce(t *testing.T) {
	p := newPair(t, nil)
	sa, sb := p.connect(t)
	ctx := ctxT(t, 5*time.Second)
	st, err := sb.OpenStream(ctx)
	require.NoError(t, err)
	start := time.Now()
	require.NoError(t, sa.Close())
	select {
	case <-sb.Done():
	case <-time.After(time.Second):
		t.Fatal("peer did not see the close")
	}
	assert.Less(t, time.Since(start), DefaultKeepaliveInterval)
	assert.ErrorIs(t, sb.Err(), ErrPeerClosed)
	assert.ErrorIs(t, sa.Err(), ErrSessionClosed)
	assert.ErrorIs(t, sa.Err(), core.ErrClosed)
	_, err = st.Write([]byte("x"))
	assert.ErrorIs(t, err, ErrPeerClosed)
	_, ok := p.b.Session(p.a.NodeID())
	assert.False(t, ok)
	// A new dial makes a new session.
	sa2, err := p.a.Dial(ctx, addrB)
	require.NoError(t, err)
	assert.NotSame(t, sa, sa2)
}

// A peer that restarts (new endpoint, same identity) dials again: the old
// session is replaced, not kept as a zombie.
func TestRestartedPeerReplacesSession(t *testing.T) {
	p := newPair(t, nil)
	_, sb := p.connect(t)
	p.a.Close()
	time.Sleep(2100 * time.Millisecond) // past the simultaneous-open window
	a2 := listen(t, p.net, addrA, testConfig(p.aID, PeerPolicy{Trust: p.pki.trust()}, p.clk))
	sa2, err := a2.Dial(ctxT(t, 5*time.Second), addrB)
	require.NoError(t, err)
	<-sb.Done()
	sb2, ok := p.b.Session(a2.NodeID())
	require.True(t, ok)
	assert.Equal(t, sa2.id, sb2.id)
}

func TestContextCancellation(t *testing.T) {
	p := newPair(t, nil)
	p.net.Crash("10.0.0.2")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := p.a.Dial(ctx, addrB)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), time.Second)
	_, err = p.b.Accept(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	p.net.Restore("10.0.0.2")
	sa, sb := p.connect(t)
	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	_, err = sa.Receive(cctx)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = sb.AcceptStream(cctx)
	assert.ErrorIs(t, err, context.Canceled)
	_, err = sb.ReceiveDatagram(cctx)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, sa.Send(cctx, []byte("x")), context.Canceled)
}

func TestMessageAndDatagramLimits(t *testing.T) {
	p := newPair(t, func(_ string, c *Config) { c.Limits.MaxMessageSize = 1024 })
	sa, sb := p.connect(t)
	ctx := ctxT(t, 5*time.Second)
	assert.ErrorIs(t, sa.Send(ctx, make([]byte, 1025)), ErrMessageTooLarge)
	assert.ErrorIs(t, sa.SendDatagram(make([]byte, sa.MaxDatagramSize()+1)), ErrMessageTooLarge)
	big := bytes.Repeat([]byte{7}, sa.MaxDatagramSize())
	require.NoError(t, sa.SendDatagram(big))
	d, err := sb.ReceiveDatagram(ctx)
	require.NoError(t, err)
	assert.Equal(t, big, d)
	require.NoError(t, sa.Send(ctx, make([]byte, 1024)))
	m, err := sb.Receive(ctx)
	require.NoError(t, err)
	assert.Len(t, m, 1024)
}

// Closing an endpoint with sessions, streams and handshakes in flight stops
// every goroutine it started, kcp-go's and smux's included.
func TestEndpointCloseLeaksNoGoroutines(t *testing.T) {
	defer goleak.VerifyNone(t, append(leakOptions, goleak.IgnoreCurrent())...)
	n, clk := fakenet.New(1), newClock()
	pk := newTestPKI(t, "leak")
	mk := func(addr, name string) *Endpoint {
		c, err := n.Listen(addr)
		require.NoError(t, err)
		e, err := Listen(c, testConfig(pk.node(t, name), PeerPolicy{Trust: pk.trust()}, clk))
		require.NoError(t, err)
		return e
	}
	a, b := mk(addrA, "a"), mk(addrB, "b")
	ctx := ctxT(t, 5*time.Second)
	sa, err := a.Dial(ctx, addrB)
	require.NoError(t, err)
	sb, err := b.Accept(ctx)
	require.NoError(t, err)
	for range 3 {
		st, err := sa.OpenStream(ctx)
		require.NoError(t, err)
		st.Write([]byte("hello"))
		_, err = sb.AcceptStream(ctx)
		require.NoError(t, err)
	}
	require.NoError(t, sa.Send(ctx, []byte("m")))
	go a.Dial(ctx, "10.0.0.9:1") // a handshake that never completes
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, a.Close())
	require.NoError(t, b.Close())
	_, err = a.Dial(ctx, addrB)
	assert.ErrorIs(t, err, core.ErrClosed)
}

// Either side may start a rekey: here the session's responder has the
// shorter rekey interval, so it initiates, and traffic flows both ways
// under the new keys.
func TestRekeyStartedBySessionResponder(t *testing.T) {
	p := newPair(t, func(name string, c *Config) {
		c.IdleTimeout = time.Hour
		if name == "a" {
			c.RekeyAfter, c.RejectAfter = 20*time.Minute, 30*time.Minute
		} else {
			c.RekeyAfter, c.RejectAfter = 2*time.Minute, 30*time.Minute
		}
	})
	sa, sb := p.connect(t)
	ctx := ctxT(t, 10*time.Second)
	before := sb.current.Load()
	p.clk.Advance(2*time.Minute + responderRekeyDelay + time.Second)
	eventually(t, 5*time.Second, func() bool { return p.b.Metrics().Rekeys == 1 && sb.current.Load() != before }, "responder-initiated rekey")
	assert.True(t, sb.current.Load().initiator, "b initiated the rekey handshake")
	assert.Zero(t, p.a.Metrics().HandshakeFailures[ReasonStaleSession])
	for range 3 {
		require.NoError(t, sa.Send(ctx, []byte("a->b")))
		m, err := sb.Receive(ctx)
		require.NoError(t, err)
		assert.Equal(t, "a->b", string(m))
		require.NoError(t, sb.Send(ctx, []byte("b->a")))
		m, err = sa.Receive(ctx)
		require.NoError(t, err)
		assert.Equal(t, "b->a", string(m))
	}
	assert.Same(t, sa.current.Load().sess, sa)
	assert.Nil(t, sa.Err())
}
