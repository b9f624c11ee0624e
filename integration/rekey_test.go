package integration_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core/coretest/fakenet"
	"github.com/snowmerak/clustering/transport"
)

// Rekey timers of the scenario: keys are replaced four times a second, so a
// transfer of a few seconds goes through many rekeys. RejectAfter leaves a
// rekey seconds to complete, as the defaults (2 min / 3 min) leave a minute:
// with under 2 s, one rekey slowed by retransmissions on a loaded machine
// outlived the keys (the retry interval, 5 s, is fixed).
const (
	scenarioRekeyAfter  = 250 * time.Millisecond
	scenarioRejectAfter = 5 * time.Second
)

// A paced transfer and a stream of numbered messages run across many rekeys:
// the bytes arrive intact, every message arrives once and in order, the
// stream never stalls, and the metrics show the rekeys happened.
func TestRekeysDuringLongTransferLoseNothing(t *testing.T) {
	forEachSeed(t, func(t *testing.T, seed int64) {
		c := newCluster(t, seed, clusterOptions{
			creds: firstCreds(t, 2),
			tune: func(_ int, cfg *transport.Config) {
				cfg.RekeyAfter, cfg.RejectAfter = scenarioRekeyAfter, scenarioRejectAfter
			},
		})
		c.net.SetFaults("*", "*", mildLink)
		sa, sb := c.connect(t, 0, 1)
		size, length := sized[int64](4<<20, 64<<20), sized(3*time.Second, 60*time.Second)
		chunks := size / (64 << 10)
		interval := length / time.Duration(chunks)
		ctx, cancel := context.WithTimeout(context.Background(), length+60*time.Second)
		defer cancel()

		messages := make(chan error, 1)
		stopMessages := make(chan struct{})
		go func() { messages <- numberedMessages(ctx, sa, sb, stopMessages) }()
		tr := newTransfer(size)
		ticker := time.NewTicker(interval)
		defer ticker.Stop()
		start := time.Now()
		tr.run(ctx, seed, sa, sb, func() { <-ticker.C })
		elapsed := time.Since(start)
		close(stopMessages)
		require.NoError(t, tr.check(), "seed %d", seed)
		require.NoError(t, <-messages, "seed %d: messages", seed)

		ma, mb := c.nodes[0].ep.Metrics(), c.nodes[1].ep.Metrics()
		t.Logf("%d MiB over %v: %d rekeys (initiator), %d (responder); longest stall %v",
			size>>20, elapsed.Round(time.Millisecond), ma.Rekeys, mb.Rekeys, time.Duration(tr.maxGap.Load()).Round(time.Millisecond))
		minRekeys := uint64(elapsed / scenarioRekeyAfter / 3)
		assert.GreaterOrEqual(t, ma.Rekeys+mb.Rekeys, max(minRekeys, 3), "seed %d: too few rekeys", seed)
		assert.Empty(t, ma.HandshakeFailures, "seed %d: initiator's failed handshakes", seed)
		assert.Empty(t, mb.HandshakeFailures, "seed %d: responder's failed handshakes", seed)
		assert.Less(t, time.Duration(tr.maxGap.Load()), 10*interval+time.Second, "seed %d: the stream stalled", seed)
		require.NoError(t, sa.Err(), "seed %d", seed)
		require.NoError(t, sb.Err(), "seed %d", seed)
	})
}

// mildLink is a realistic datacenter link: a little loss, reordering and
// duplication, and a millisecond of delay with jitter.
var mildLink = fakenet.Faults{
	Loss: 0.02, Duplicate: 0.02, Reorder: 0.05, ReorderDelay: 4 * time.Millisecond,
	Delay: time.Millisecond, Jitter: time.Millisecond,
}

// numberedMessages sends numbered messages from a to b every 20 ms until
// stop closes, and checks that b receives each exactly once, in order.
func numberedMessages(ctx context.Context, a, b *transport.Session, stop <-chan struct{}) error {
	sent := make(chan uint64, 1)
	received := make(chan error, 1)
	go func() { received <- receiveNumbered(ctx, b, sent) }()
	var n uint64
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			sent <- n
			return <-received
		case <-tick.C:
		}
		if err := a.Send(ctx, binary.BigEndian.AppendUint64(nil, n)); err != nil {
			sent <- n
			<-received
			return fmt.Errorf("send message %d: %w", n, err)
		}
		n++
	}
}

// receiveNumbered checks that messages 0, 1, 2, ... arrive in order until
// the count sent arrives on total; the last ones get 10 s to arrive.
func receiveNumbered(ctx context.Context, b *transport.Session, total <-chan uint64) error {
	var want uint64
	var last uint64
	var deadline time.Time
	for {
		if !deadline.IsZero() && want == last {
			return nil
		}
		select {
		case n := <-total:
			last, deadline = n, time.Now().Add(10*time.Second)
		default:
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			return fmt.Errorf("received %d of %d messages", want, last)
		}
		rctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		msg, err := b.Receive(rctx)
		cancel()
		switch {
		case err != nil && ctx.Err() != nil:
			return fmt.Errorf("after %d messages: %w", want, ctx.Err())
		case err != nil && rctx.Err() == nil:
			return fmt.Errorf("receive after %d messages: %w", want, err)
		case err != nil:
			continue
		}
		if got := binary.BigEndian.Uint64(msg); got != want {
			return fmt.Errorf("message %d arrived when %d was due", got, want)
		}
		want++
	}
}
