package transport

import (
	"bytes"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A peer sends messages faster than the application receives them (or to
// an application that only uses streams). The messages it has queued must
// stay within the session's receive buffer, the sender must be held back by
// flow control, and nothing may be lost once the application reads.
func TestUnreadMessagesStayWithinTheSessionBuffer(t *testing.T) {
	const msgSize, count = 64 << 10, 100
	p := newPair(t, func(_ string, c *Config) {
		c.Limits.MaxMessageSize = msgSize
		c.KCP.StreamBuffer, c.KCP.SessionBuffer = 128<<10, 256<<10
	})
	sa, sb := p.connect(t)
	ctx := ctxT(t, 30*time.Second)
	budget := max(p.b.cfg.KCP.SessionBuffer, p.b.cfg.Limits.MaxMessageSize)

	var sent atomic.Int64
	done := make(chan error, 1)
	go func() {
		for i := range count {
			if err := sa.Send(ctx, bytes.Repeat([]byte{byte(i)}, msgSize)); err != nil {
				done <- err
				return
			}
			sent.Add(1)
		}
		done <- nil
	}()
	// Wait until the sender is held back (or is done).
	last, still := int64(-1), 0
	for still < 15 {
		time.Sleep(20 * time.Millisecond)
		if n := sent.Load(); n != last {
			last, still = n, 0
		} else {
			still++
		}
	}
	queued := len(sb.messages) * msgSize
	assert.LessOrEqual(t, queued, budget+msgSize, "%d bytes of unread messages queued (budget %d)", queued, budget)
	assert.Less(t, sent.Load(), int64(count), "the sender was never held back")

	for i := range count {
		m, err := sb.Receive(ctx)
		require.NoError(t, err)
		require.Len(t, m, msgSize)
		require.Equal(t, byte(i), m[0], "message %d out of order", i)
	}
	require.NoError(t, <-done)
}
