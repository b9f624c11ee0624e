package transport

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The queue between the read loop and KCP keeps order, holds at most its
// bound (a full queue drops, as a full socket would), grows only as needed,
// and hands back what it holds when closed.
func TestPacketQueueIsABoundedFIFO(t *testing.T) {
	q := packetQueue{max: 40}
	pkt := func(i int) kcpPacket { return kcpPacket{data: []byte{byte(i)}} }
	_, ok := q.pop()
	assert.False(t, ok, "empty")
	assert.Zero(t, len(q.ring), "nothing allocated before the first packet")
	for i := range 40 {
		require.True(t, q.push(pkt(i)))
	}
	assert.False(t, q.push(pkt(99)), "full")
	assert.Equal(t, 40, len(q.ring), "grown to the bound, not past it")
	for i := range 25 { // wrap the ring around
		p, ok := q.pop()
		require.True(t, ok)
		require.Equal(t, byte(i), p.data[0])
		require.True(t, q.push(pkt(100+i)))
	}
	left := q.close()
	require.Len(t, left, 40)
	for i, p := range left {
		want := 25 + i
		if i >= 15 {
			want = 100 + i - 15
		}
		assert.Equal(t, byte(want), p.data[0], "order kept across the wrap")
	}
	assert.False(t, q.push(pkt(1)), "closed")
	_, ok = q.pop()
	assert.False(t, ok)
}
