package transport

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The same protocol over real loopback UDP sockets (batched reads).
func TestLoopbackUDPSession(t *testing.T) {
	pk := newTestPKI(t, "udp")
	clk := newClock()
	a := listenUDP(t, testConfig(pk.node(t, "a"), PeerPolicy{Trust: pk.trust()}, clk))
	b := listenUDP(t, testConfig(pk.node(t, "b"), PeerPolicy{Trust: pk.trust()}, clk))
	br, _ := newBatchReader(a.conn)
	require.NotNil(t, br, "a UDP socket reads in batches")
	ctx := ctxT(t, 10*time.Second)
	sa, err := a.Dial(ctx, b.LocalAddr().String())
	require.NoError(t, err)
	sb, err := b.Accept(ctx)
	require.NoError(t, err)
	assert.Equal(t, a.NodeID(), sb.PeerID())

	require.NoError(t, sa.Send(ctx, []byte("over udp")))
	m, err := sb.Receive(ctx)
	require.NoError(t, err)
	assert.Equal(t, "over udp", string(m))

	payload := bytes.Repeat([]byte("udp stream "), 200000)
	st, err := sb.OpenStream(ctx)
	require.NoError(t, err)
	go func() { st.Write(payload); st.Close() }()
	in, err := sa.AcceptStream(ctx)
	require.NoError(t, err)
	got, err := io.ReadAll(in)
	require.NoError(t, err)
	assert.Equal(t, payload, got)

	require.NoError(t, sa.SendDatagram([]byte("probe")))
	d, err := sb.ReceiveDatagram(ctx)
	require.NoError(t, err)
	assert.Equal(t, "probe", string(d))

	require.NoError(t, sa.Close())
	select {
	case <-sb.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("close not seen over UDP")
	}
	assert.ErrorIs(t, sb.Err(), ErrPeerClosed)
}

// Bulk streams to and from two peers at once over loopback UDP: the batch
// writer interleaves destinations (GSO runs per address on Linux) and the
// reader cuts GRO reads apart; every byte arrives, in order.
func TestLoopbackUDPConcurrentBulk(t *testing.T) {
	pk := newTestPKI(t, "udp2")
	clk := newClock()
	hub := listenUDP(t, testConfig(pk.node(t, "hub"), PeerPolicy{Trust: pk.trust()}, clk))
	ctx := ctxT(t, 20*time.Second)
	type flow struct {
		name     string
		from, to *Session
		data     []byte
	}
	var flows []flow
	for i, name := range []string{"p1", "p2"} {
		peer := listenUDP(t, testConfig(pk.node(t, name), PeerPolicy{Trust: pk.trust()}, clk))
		sp, err := peer.Dial(ctx, hub.LocalAddr().String())
		require.NoError(t, err)
		sh, err := hub.Accept(ctx)
		require.NoError(t, err)
		flows = append(flows, flow{name + " up", sp, sh, patterned(1<<20, byte(2*i))}, flow{name + " down", sh, sp, patterned(1<<20, byte(2*i+1))})
	}
	errs := make(chan error, len(flows))
	for _, f := range flows {
		out, err := f.from.OpenStream(ctx)
		require.NoError(t, err)
		go func() { out.Write(f.data); out.Close() }()
		go func() {
			in, err := f.to.AcceptStream(ctx)
			if err != nil {
				errs <- fmt.Errorf("%s: %w", f.name, err)
				return
			}
			got, err := io.ReadAll(in)
			switch {
			case err != nil:
				errs <- fmt.Errorf("%s: %w", f.name, err)
			case !bytes.Equal(got, f.data):
				errs <- fmt.Errorf("%s: %d bytes arrived, not the %d sent", f.name, len(got), len(f.data))
			default:
				errs <- nil
			}
		}()
	}
	for range flows {
		require.NoError(t, <-errs)
	}
}

// patterned returns n bytes that differ per seed and per position.
func patterned(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7+i>>8) ^ seed
	}
	return b
}
