package transport

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReplayWindowRules(t *testing.T) {
	require.GreaterOrEqual(t, replayWindowSize, 2048, "DESIGN asks for a window of at least 2048")
	cases := []struct {
		name   string
		before []uint64 // accepted first
		try    uint64
		want   bool
	}{
		{"first counter", nil, 0, true},
		{"duplicate", []uint64{0, 1, 2}, 1, false},
		{"newest duplicate", []uint64{0, 1, 2}, 2, false},
		{"reordered within the window", []uint64{0, 5}, 3, true},
		{"oldest in the window", []uint64{replayWindowSize + 10}, 10, true},
		{"just outside the window", []uint64{replayWindowSize + 10}, 9, false},
		{"far ahead", []uint64{0}, 1 << 40, true},
		{"behind after a far jump", []uint64{0, 1 << 40}, 1, false},
		{"fresh slot after a jump that wrapped the ring", []uint64{3, 3 + 5*replayWindowSize}, 3 + 5*replayWindowSize - 64, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var w replayWindow
			for _, c := range tc.before {
				require.True(t, w.accept(c))
			}
			assert.Equal(t, !tc.want, w.seen(tc.try), "seen")
			assert.Equal(t, tc.want, w.accept(tc.try), "accept")
			assert.False(t, w.accept(tc.try), "a second accept always refuses")
		})
	}
}

// The bitmap agrees with a plain set over random traffic: a counter is
// accepted once, if it is newer than the newest or at most
// replayWindowSize behind it.
func TestReplayWindowMatchesModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 20 {
		var w replayWindow
		seen := map[uint64]bool{}
		var newest uint64
		base := uint64(0)
		for range 20000 {
			var c uint64
			switch rng.IntN(10) {
			case 0:
				base += uint64(rng.IntN(3 * replayWindowSize)) // a jump
				c = base
			case 1:
				c = base + uint64(rng.IntN(64)) // near the front, duplicates likely
			default:
				c = base - min(base, uint64(rng.IntN(replayWindowSize+200)))
			}
			want := !seen[c] && (c > newest || newest-c <= replayWindowSize)
			require.Equal(t, !want, w.seen(c), "trial %d counter %d newest %d", trial, c, newest)
			require.Equal(t, want, w.accept(c), "trial %d counter %d newest %d", trial, c, newest)
			if want {
				seen[c] = true
				newest = max(newest, c)
			}
		}
	}
}
