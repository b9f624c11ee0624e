package transport

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSessionMessagesStreamsDatagrams(t *testing.T) {
	p := newPair(t, nil)
	sa, sb := p.connect(t)
	assert.Equal(t, p.b.NodeID(), sa.PeerID())
	assert.Equal(t, p.a.NodeID(), sb.PeerID())
	ctx := ctxT(t, 5*time.Second)

	require.NoError(t, sa.Send(ctx, []byte("hello")))
	got, err := sb.Receive(ctx)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(got))
	require.NoError(t, sb.Send(ctx, []byte("back")))
	got, err = sa.Receive(ctx)
	require.NoError(t, err)
	assert.Equal(t, "back", string(got))

	st, err := sa.OpenStream(ctx)
	require.NoError(t, err)
	payload := bytes.Repeat([]byte("0123456789"), 50000)
	go func() { st.Write(payload); st.Close() }()
	in, err := sb.AcceptStream(ctx)
	require.NoError(t, err)
	all, err := io.ReadAll(in)
	require.NoError(t, err)
	assert.Equal(t, payload, all)

	require.NoError(t, sa.SendDatagram([]byte("dgram")))
	d, err := sb.ReceiveDatagram(ctx)
	require.NoError(t, err)
	assert.Equal(t, "dgram", string(d))
}
