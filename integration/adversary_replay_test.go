package integration_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/transport"
)

// mallorysAddr is where the adversary sends from when it does not spoof.
const mallorysAddr = "10.6.6.6:7946"

// The initiator's flights of a whole handshake (every fragment of M1 and
// M3, as sent) are recorded and replayed to the responder later: from the
// initiator's address while the session lives, after it closed, from the
// adversary's own address, and to a responder that restarted (and so lost
// its memory of seen nonces). No session results; the responder does no
// public-key work for a replay it can recognise, and at most one
// handshake's worth for a replay it cannot (the restarted responder).
func TestReplayedHandshakeCreatesNoSession(t *testing.T) {
	cases := []struct {
		name    string
		from    func(c *cluster) string
		prepare func(t *testing.T, c *cluster, sa, sb *transport.Session, meter **costMeter)
		// maxWork is the most public-key operations the responder may do.
		maxWork int64
	}{
		{name: "while the session lives", from: func(c *cluster) string { return c.nodes[0].addr }},
		{
			name: "after the session closed",
			from: func(c *cluster) string { return c.nodes[0].addr },
			prepare: func(t *testing.T, _ *cluster, sa, sb *transport.Session, _ **costMeter) {
				require.NoError(t, sa.Close())
				<-sb.Done()
				require.ErrorIs(t, sb.Err(), transport.ErrPeerClosed)
			},
		},
		{name: "from the adversary's own address", from: func(*cluster) string { return mallorysAddr }},
		{
			name: "to a responder that restarted",
			from: func(c *cluster) string { return c.nodes[0].addr },
			prepare: func(t *testing.T, c *cluster, _, _ *transport.Session, meter **costMeter) {
				b := c.nodes[1]
				require.NoError(t, b.ep.Close())
				fresh := &costMeter{}
				c.nodes[1] = c.start(t, b.cred, b.addr, transport.PeerPolicy{Trust: pkiFixture(t).cluster.trust()}, fresh.meter)
				*meter = fresh
			},
			// The restarted responder's new cookie secret normally stops the
			// replay before any work; at most, an M1 costs it one
			// encapsulation and one signature, and the replayed M3 cannot
			// match the new M2.
			maxWork: 2,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			forEachSeed(t, func(t *testing.T, seed int64) {
				meter := &costMeter{}
				c := newCluster(t, seed, clusterOptions{
					creds: firstCreds(t, 2),
					tune: func(i int, cfg *transport.Config) {
						if i == 1 {
							meter.meter(cfg)
						}
					},
				})
				a, b := c.nodes[0], c.nodes[1]
				tap := newWiretap(a.addr, b.addr, typeM1, typeM3)
				c.net.SetHook(tap.hook)
				sa, sb := c.connect(t, 0, 1)
				recorded := tap.stop()
				c.net.SetHook(nil)
				ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
				defer cancel()
				accepted, err := b.ep.Accept(ctx)
				require.NoError(t, err, "seed %d", seed)
				require.Same(t, sb, accepted, "seed %d", seed)
				require.NotEmpty(t, recorded, "seed %d: nothing recorded", seed)
				require.NotZero(t, meter.signs.Load(), "seed %d: the meter saw no signature", seed)
				if tc.prepare != nil {
					tc.prepare(t, c, sa, sb, &meter)
				}
				b = c.nodes[1]
				opened, work := b.ep.Metrics().SessionsOpened, meter.expensive()

				replay(c.net, tc.from(c), b.addr, recorded)
				time.Sleep(time.Second) // ample for the responder to act on them

				m := b.ep.Metrics()
				t.Logf("replayed %d packets: responder work %d ops; M1 replays %d, cookie replies %d, rate limited %d, unknown index %d, failures %v",
					len(recorded), meter.expensive()-work, m.M1Replays, m.CookieReplies, m.RateLimited, m.UnknownIndex, m.HandshakeFailures)
				assert.Equal(t, opened, m.SessionsOpened, "seed %d: a replayed handshake opened a session", seed)
				assert.LessOrEqual(t, meter.expensive()-work, tc.maxWork, "seed %d: responder's public-key work for a replay", seed)
				short, stop := context.WithTimeout(ctx, 200*time.Millisecond)
				defer stop()
				_, err = b.ep.Accept(short)
				assert.ErrorIs(t, err, context.DeadlineExceeded, "seed %d: a replayed handshake reached Accept", seed)
				if tc.maxWork == 0 {
					assert.NotZero(t, m.M1Replays+m.CookieReplies+m.UnknownIndex, "seed %d: no sign the replay was recognised", seed)
				}
			})
		})
	}
}

// Records of a live session are recorded and replayed, from the sender's
// address and from another: each one is refused by the replay window, no
// message is delivered twice, the session does not move to the replaying
// address, and the session keeps working.
func TestReplayedRecordsAreRefused(t *testing.T) {
	for _, from := range []string{"the sender's address", "another address"} {
		t.Run(from, func(t *testing.T) {
			forEachSeed(t, func(t *testing.T, seed int64) {
				c := newCluster(t, seed, clusterOptions{creds: firstCreds(t, 2)})
				a, b := c.nodes[0], c.nodes[1]
				sa, sb := c.connect(t, 0, 1)
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				require.NoError(t, roundTrip(ctx, sa, sb, "warm-up"))
				tap := newWiretap(a.addr, b.addr, typeRecord)
				c.net.SetHook(tap.hook)
				for i := range 20 {
					require.NoError(t, sa.Send(ctx, []byte{byte(i)}), "seed %d", seed)
					got, err := sb.Receive(ctx)
					require.NoError(t, err, "seed %d", seed)
					require.Equal(t, []byte{byte(i)}, got, "seed %d", seed)
				}
				require.NoError(t, sa.SendDatagram([]byte("datagram")))
				_, err := sb.ReceiveDatagram(ctx)
				require.NoError(t, err)
				recorded := tap.stop()
				c.net.SetHook(nil)
				time.Sleep(100 * time.Millisecond) // KCP's acknowledgements settle
				before := b.ep.Metrics()

				src := a.addr
				if from != "the sender's address" {
					src = mallorysAddr
				}
				replay(c.net, src, b.addr, recorded)
				require.NoError(t, roundTrip(ctx, sa, sb, "after the replay"), "seed %d", seed)

				after := b.ep.Metrics()
				assert.Equal(t, before.ReplayDrops+uint64(len(recorded)), after.ReplayDrops, "seed %d: every replayed record refused as a replay", seed)
				assert.Equal(t, before.AuthFailures, after.AuthFailures, "seed %d", seed)
				assert.Equal(t, a.addr, sb.RemoteAddr().String(), "seed %d: a replay moved the session", seed)
				short, stop := context.WithTimeout(ctx, 200*time.Millisecond)
				defer stop()
				extra, err := sb.Receive(short)
				assert.ErrorIs(t, err, context.DeadlineExceeded, "seed %d: a message was delivered twice: %q", seed, extra)
				extra, err = sb.ReceiveDatagram(short)
				assert.ErrorIs(t, err, context.DeadlineExceeded, "seed %d: a datagram was delivered twice: %q", seed, extra)
			})
		})
	}
}
