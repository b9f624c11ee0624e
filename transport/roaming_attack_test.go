package transport

import (
	"bytes"
	"io"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core/coretest/fakenet"
)

// A malicious member C seals one of its own records and sends it with B's
// address as the source. The record authenticates, so A's session with C
// follows it (DESIGN §3 roaming), but B's address must not become C's: a
// Dial of B's address must still reach B, never C's session.
func TestSpoofedRoamDoesNotCaptureAnotherPeersAddress(t *testing.T) {
	n, clk := fakenet.New(1), newClock()
	pk := newTestPKI(t, "roam")
	const addrC = "10.0.0.3:7000"
	policy := PeerPolicy{Trust: pk.trust()}
	a := listen(t, n, addrA, testConfig(pk.node(t, "a"), policy, clk))
	b := listen(t, n, addrB, testConfig(pk.node(t, "b"), policy, clk))
	c := listen(t, n, addrC, testConfig(pk.node(t, "c"), policy, clk))
	ctx := ctxT(t, 5*time.Second)

	sAC, err := a.Dial(ctx, addrC)
	require.NoError(t, err)
	sCA, err := c.Accept(ctx)
	require.NoError(t, err)
	require.Equal(t, c.NodeID(), sAC.PeerID())
	require.NoError(t, sAC.Send(ctx, []byte("hello")))
	_, err = sCA.Receive(ctx)
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond) // KCP acknowledgements settle

	// C forges nothing: it seals a genuine keepalive and lies about the source.
	var buf packetBuf
	rec, err := sCA.current.Load().seal(&buf, contentKeepalive, nil)
	require.NoError(t, err)
	n.Inject(apB, apA, rec)
	eventually(t, 2*time.Second, func() bool { return sAC.RemoteAddr().String() == addrB }, "the session did not follow the authenticated record")

	got, err := a.Dial(ctx, addrB)
	require.NoError(t, err)
	assert.Equal(t, b.NodeID(), got.PeerID(), "Dial(B's address) returned C's session")
	assert.NotSame(t, sAC, got)

	// C's session is still C's, and C can move it back by speaking from home.
	require.NoError(t, sCA.SendDatagram([]byte("home")))
	d, err := sAC.ReceiveDatagram(ctx)
	require.NoError(t, err)
	assert.Equal(t, "home", string(d))
	assert.Equal(t, addrC, sAC.RemoteAddr().String())
}

// An attacker who saw a record that never arrived (lost, or dropped) sends
// it later from its own address. The record is genuine and new to the
// replay window, so it is delivered, but it is older than what the peer has
// sent since: the session must not move to the attacker (the rule of
// RFC 9000 §9.3: only the newest packet moves a path).
func TestDelayedRecordDoesNotMoveTheSession(t *testing.T) {
	p := newPair(t, nil)
	sa, sb := p.connect(t)
	ctx := ctxT(t, 5*time.Second)

	old := bytes.Repeat([]byte{'x'}, 777)
	oldLen := recordHeaderSize + 1 + len(old) + aeadOverhead(p.a.cfg.Suite)
	var mu sync.Mutex
	var captured []byte
	p.net.SetHook(func(pk *fakenet.Packet) fakenet.Verdict {
		if pk.From == apA && packetType(pk.Payload[0]) == typeRecord && len(pk.Payload) == oldLen {
			mu.Lock()
			defer mu.Unlock()
			if captured == nil {
				captured = append([]byte(nil), pk.Payload...)
				return fakenet.Drop
			}
		}
		return fakenet.Deliver
	})
	require.NoError(t, sa.SendDatagram(old))
	require.NoError(t, sa.SendDatagram([]byte("newer")))
	d, err := sb.ReceiveDatagram(ctx)
	require.NoError(t, err)
	require.Equal(t, "newer", string(d))
	mu.Lock()
	rec := captured
	mu.Unlock()
	require.NotNil(t, rec, "the old record was not captured")

	evil := netip.MustParseAddrPort("10.0.0.66:7000")
	p.net.Inject(evil, apB, rec)
	d, err = sb.ReceiveDatagram(ctx)
	require.NoError(t, err)
	assert.Equal(t, old, d, "the genuine late record is still delivered")
	assert.Equal(t, addrA, sb.RemoteAddr().String(), "a late record moved the session")

	// The peer really moving still works: its next record is the newest.
	require.NoError(t, sa.SendDatagram([]byte("still here")))
	d, err = sb.ReceiveDatagram(ctx)
	require.NoError(t, err)
	assert.Equal(t, "still here", string(d))
	assert.Equal(t, addrA, sb.RemoteAddr().String())
}

// A malicious member C points its own session at a victim V: it sends its
// genuine records with V's address as the source, and asks A for data. Until
// a path challenge sent to V is answered, A must send V at most 3x what it
// received from V (RFC 9000 §8.2, §9.3), or any member could turn any node
// into a traffic cannon. When C speaks from its real address again, the path
// is validated and the data A held back arrives intact.
func TestRoamToUnprovenAddressIsBudgeted(t *testing.T) {
	n, clk := fakenet.New(1), newClock()
	pk := newTestPKI(t, "roam")
	const addrC = "10.0.0.3:7000"
	victim := netip.MustParseAddrPort("10.0.0.99:7000")
	policy := PeerPolicy{Trust: pk.trust()}
	cfg := func(name string) Config {
		c := testConfig(pk.node(t, name), policy, clk)
		// The clock jumps to the rekey time below; C stays silent at home.
		c.IdleTimeout, c.KeepaliveInterval = time.Hour, time.Hour
		return c
	}
	a := listen(t, n, addrA, cfg("a"))
	c := listen(t, n, addrC, cfg("c"))
	ctx := ctxT(t, 10*time.Second)
	sAC, err := a.Dial(ctx, addrC)
	require.NoError(t, err)
	sCA, err := c.Accept(ctx)
	require.NoError(t, err)
	w, err := sAC.OpenStream(ctx)
	require.NoError(t, err)
	r, err := sCA.AcceptStream(ctx)
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond) // KCP acknowledgements settle

	var toVictim, fromVictim atomicCounter
	n.SetHook(func(pk *fakenet.Packet) fakenet.Verdict {
		if pk.To == victim {
			toVictim.add(int64(len(pk.Payload)))
			return fakenet.Drop // V has no endpoint; count what reached it
		}
		return fakenet.Deliver
	})
	spoof := func() {
		var buf packetBuf
		rec, err := sCA.current.Load().seal(&buf, contentKeepalive, nil)
		require.NoError(t, err)
		fromVictim.add(int64(len(rec)))
		n.Inject(victim, apA, rec)
	}
	spoof()
	eventually(t, 2*time.Second, func() bool { return sAC.RemoteAddr().String() == victim.String() }, "the session did not follow the record")

	const total = 256 << 10
	data := bytes.Repeat([]byte("cannon"), total/6+1)[:total]
	go func() { _, _ = w.Write(data) }()
	for range 10 { // C keeps the path alive from V's address
		time.Sleep(20 * time.Millisecond)
		spoof()
	}
	// A's rekey falls due: its handshake flights must not go to V either.
	clk.Advance(DefaultRekeyAfter + time.Second)
	time.Sleep(200 * time.Millisecond)
	assert.LessOrEqual(t, toVictim.load(), amplificationFactor*fromVictim.load(),
		"A sent the victim %d bytes for %d received from it", toVictim.load(), fromVictim.load())

	// C comes home: its next record moves the session back, the new path is
	// challenged and answered, and the stream completes.
	require.NoError(t, sCA.SendDatagram([]byte("home")))
	got := make([]byte, total)
	_, err = io.ReadFull(r, got)
	require.NoError(t, err)
	assert.Equal(t, data, got)
	assert.Equal(t, addrC, sAC.RemoteAddr().String())
}
