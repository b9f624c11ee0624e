package integration_test

import (
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/snowmerak/clustering/transport"
)

// Liveness timers of the crash scenario.
const (
	crashKeepalive = 400 * time.Millisecond
	crashIdle      = 3 * time.Second
	// crashMargin is the detection allowance past the idle timeout: timer
	// ticks and scheduling on a loaded 2-core machine under -race.
	crashMargin = 1500 * time.Millisecond
)

// Ten nodes, every pair talking; one crashes (stops answering). Each
// survivor's session with it ends with ErrSessionTimeout within the idle
// timeout (plus a margin), its streams fail with that error, every other
// pair keeps exchanging messages throughout, and after shutdown no
// goroutine is left.
func TestCrashedNodeFailsItsSessionsCleanly(t *testing.T) {
	forEachSeed(t, func(t *testing.T, seed int64) {
		const n, crashed = 10, 9
		c := newCluster(t, seed, clusterOptions{
			creds: firstCreds(t, n),
			tune: func(_ int, cfg *transport.Config) {
				cfg.KeepaliveInterval, cfg.IdleTimeout = crashKeepalive, crashIdle
			},
		})
		c.net.SetFaults("*", "*", mildLink)
		sessions := c.connectAll(t)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()

		// A stream from every survivor to the node that will crash, blocked in Read.
		streamErrs := make(chan error, n)
		for i := range crashed {
			st, err := sessions[[2]int{i, crashed}][0].OpenStream(ctx)
			require.NoError(t, err, "seed %d", seed)
			go func() {
				_, err := io.ReadAll(st)
				streamErrs <- err
			}()
		}

		// Every surviving pair exchanges messages until told to stop.
		stop := make(chan struct{})
		var talkers sync.WaitGroup
		talkErrs := make(chan error, len(sessions))
		for pair, s := range sessions {
			if pair[1] == crashed {
				continue
			}
			talkers.Go(func() {
				for k := 0; ; k++ {
					select {
					case <-stop:
						return
					case <-time.After(100 * time.Millisecond):
					}
					if err := roundTrip(ctx, s[0], s[1], fmt.Sprintf("%v #%d", pair, k)); err != nil {
						talkErrs <- fmt.Errorf("pair %v: %w", pair, err)
						return
					}
				}
			})
		}

		time.Sleep(300 * time.Millisecond)
		crashedAt := time.Now()
		c.net.Crash(nodeIP(crashed).String())
		for i := range crashed {
			s := sessions[[2]int{i, crashed}][0]
			select {
			case <-s.Done():
			case <-ctx.Done():
				t.Fatalf("seed %d: node %d's session with the crashed node never ended", seed, i)
			}
			took := time.Since(crashedAt)
			require.ErrorIs(t, s.Err(), transport.ErrSessionTimeout, "seed %d: node %d", seed, i)
			assert.LessOrEqual(t, took, crashIdle+crashMargin, "seed %d: node %d detected the crash late", seed, i)
			assert.GreaterOrEqual(t, took, crashIdle-crashKeepalive, "seed %d: node %d's session ended before the idle timeout", seed, i)
		}
		for range crashed {
			select {
			case err := <-streamErrs:
				require.ErrorIs(t, err, transport.ErrSessionTimeout, "seed %d: a stream to the crashed node", seed)
			case <-ctx.Done():
				t.Fatalf("seed %d: a stream to the crashed node never failed", seed)
			}
		}
		time.Sleep(300 * time.Millisecond) // survivors keep talking after the detection
		close(stop)
		talkers.Wait()
		close(talkErrs)
		for err := range talkErrs {
			t.Errorf("seed %d: %v", seed, err)
		}
		for pair, s := range sessions {
			if pair[1] != crashed {
				require.NoError(t, s[0].Err(), "seed %d: pair %v", seed, pair)
				require.NoError(t, s[1].Err(), "seed %d: pair %v", seed, pair)
				require.NoError(t, roundTrip(ctx, s[0], s[1], fmt.Sprintf("%v after", pair)), "seed %d", seed)
			}
		}
		for i := range crashed {
			assert.Equal(t, n-2, c.nodes[i].ep.Metrics().Sessions, "seed %d: node %d's live sessions", seed, i)
		}

		c.close()
		goleak.VerifyNone(t, append(leakOptions, goleak.IgnoreCurrent())...)
	})
}
