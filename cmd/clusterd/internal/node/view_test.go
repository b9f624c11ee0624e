package node

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/cmd/clusterd/internal/config"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/membership"
	"github.com/snowmerak/clustering/membership/swim"
)

// A member's announced weight is its own claim: placement caps it, so that
// one member cannot stall every node's view builds (their cost grows with
// the largest weight) nor take more than MaxWeight shares.
func TestViewCapsAnnouncedWeights(t *testing.T) {
	for _, tc := range []struct {
		rule      string
		announced int
		placed    int
	}{
		{"a weight above the maximum is placed at the maximum", math.MaxInt32, config.MaxWeight},
		{"a weight within range is kept", 7, 7},
		{"no weight counts as one", 0, 1},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			members := []swim.MemberState{
				{ID: core.NodeID{1}, State: swim.StateAlive, Meta: swim.Meta{Zone: "a", Weight: 1}},
				{ID: core.NodeID{2}, State: swim.StateAlive, Meta: swim.Meta{Zone: "b", Weight: tc.announced}},
				{ID: core.NodeID{3}, State: swim.StateAlive, Meta: swim.Meta{Zone: "c", Weight: 1}},
			}
			b := newViewBuilder(func() []swim.MemberState { return members }, membership.PlacementConfig{}, nil)
			done := make(chan struct{})
			go func() { defer close(done); b.build() }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("building the view took more than 30 s")
			}
			v, _ := b.view()
			require.Len(t, v.Members, 3)
			require.Equal(t, tc.placed, v.Members[1].Weight)
		})
	}
}
