package transport

import (
	"bytes"
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
	require.NotNil(t, newBatchReader(a.conn), "a UDP socket reads in batches")
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
