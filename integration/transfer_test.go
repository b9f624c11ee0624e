package integration_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core/coretest/fakenet"
)

// transferSize is the bytes each transfer scenario moves: a few MiB by
// default, the 64 MiB with -soak.
func transferSize() int64 { return sized[int64](4<<20, 64<<20) }

// partitionLength is how long the partition scenario cuts the link.
func partitionLength() time.Duration { return sized(1500*time.Millisecond, 10*time.Second) }

// hostileLink is the bad network: 20% loss, reordering,
// duplication, and delay with jitter, on every link both ways.
var hostileLink = fakenet.Faults{
	Loss: 0.20, Duplicate: 0.10, Reorder: 0.20, ReorderDelay: 8 * time.Millisecond,
	Delay: time.Millisecond, Jitter: 2 * time.Millisecond,
}

// transferScenario moves transferSize bytes from node 0 to node 1 while
// disrupt (run alongside) does its damage, and checks the bytes arrive
// intact (same SHA-256, same length).
type transferScenario struct {
	name    string
	faults  fakenet.Faults
	disrupt func(ctx context.Context, t *testing.T, c *cluster, tr *transfer) error
	// verify checks what the disruption should have left behind.
	verify func(t *testing.T, c *cluster, tr *transfer)
}

func transferScenarios() []transferScenario {
	return []transferScenario{
		{
			name:   "20% loss with reordering and duplication",
			faults: hostileLink,
			verify: func(t *testing.T, c *cluster, _ *transfer) {
				m := c.nodes[1].ep.Metrics()
				assert.NotZero(t, m.ReplayDrops, "seed %d: duplicated records must reach the replay window and be dropped there", c.seed)
			},
		},
		{
			name: "a partition that heals",
			disrupt: func(ctx context.Context, t *testing.T, c *cluster, tr *transfer) error {
				if err := tr.waitReceived(ctx, tr.size/4); err != nil {
					return err
				}
				c.net.Partition([]string{c.nodes[0].addr}, []string{c.nodes[1].addr})
				time.Sleep(200 * time.Millisecond) // what already arrived is read out of the buffers
				cut := tr.received.Load()
				time.Sleep(partitionLength())
				during := tr.received.Load() - cut
				c.net.Heal()
				t.Logf("partition of %v: %d bytes arrived while cut", partitionLength(), during)
				if during > 0 {
					return fmt.Errorf("%d bytes crossed the partition", during)
				}
				return nil
			},
			verify: func(t *testing.T, _ *cluster, tr *transfer) {
				assert.GreaterOrEqual(t, time.Duration(tr.maxGap.Load()), partitionLength(), "the partition did not stall the stream")
			},
		},
		{
			name:   "the sender's address changes twice",
			faults: fakenet.Faults{Delay: time.Millisecond, Jitter: time.Millisecond},
			disrupt: func(ctx context.Context, _ *testing.T, c *cluster, tr *transfer) error {
				for i, next := range []string{"10.0.100.1:40001", "10.0.100.2:40002"} {
					if err := tr.waitReceived(ctx, tr.size*int64(i+1)/3); err != nil {
						return err
					}
					if err := c.nodes[0].conn.Rebind(next); err != nil {
						return err
					}
				}
				return nil
			},
			verify: func(t *testing.T, c *cluster, _ *transfer) {
				s, ok := c.nodes[1].ep.Session(c.nodes[0].id())
				require.True(t, ok, "seed %d: the receiver lost its session", c.seed)
				assert.Equal(t, "10.0.100.2:40002", s.RemoteAddr().String(), "seed %d: the receiver did not follow the sender", c.seed)
			},
		},
	}
}

// A long stream arrives intact across a hostile network, a partition that
// heals, and the sender's address changing under it (NAT rebinding).
func TestStreamTransferSurvivesHostileNetwork(t *testing.T) {
	for _, sc := range transferScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			forEachSeed(t, func(t *testing.T, seed int64) {
				c := newCluster(t, seed, clusterOptions{creds: firstCreds(t, 2)})
				c.net.SetFaults("*", "*", sc.faults)
				sa, sb := c.connect(t, 0, 1)
				ctx, cancel := context.WithTimeout(context.Background(), sized(90*time.Second, 15*time.Minute))
				defer cancel()
				tr := newTransfer(transferSize())
				disrupted := make(chan error, 1)
				go func() {
					if sc.disrupt == nil {
						disrupted <- nil
						return
					}
					disrupted <- sc.disrupt(ctx, t, c, tr)
				}()
				start := time.Now()
				tr.run(ctx, seed, sa, sb, nil)
				elapsed := time.Since(start)
				require.NoError(t, <-disrupted, "seed %d: disruption", seed)
				require.NoError(t, tr.check(), "seed %d", seed)
				t.Logf("%d MiB in %v (%.1f MB/s), longest stall %v", tr.size>>20, elapsed.Round(time.Millisecond),
					float64(tr.size)/elapsed.Seconds()/1e6, time.Duration(tr.maxGap.Load()).Round(time.Millisecond))
				require.NoError(t, sa.Err(), "seed %d: sender's session", seed)
				require.NoError(t, sb.Err(), "seed %d: receiver's session", seed)
				if sc.verify != nil {
					sc.verify(t, c, tr)
				}
			})
		})
	}
}
