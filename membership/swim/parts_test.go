package swim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core"
)

// The vectors are memberlist's (suspicion_test.go), so both implementations
// agree on Lifeguard's timeout curve.
func TestSuspicionTimeoutShrinksWithConfirmations(t *testing.T) {
	lo, hi := 2*time.Second, 30*time.Second
	tests := []struct {
		name    string
		n, k    int
		elapsed time.Duration
		want    time.Duration
	}{
		{"no confirmations: the maximum", 0, 3, 0, hi},
		{"one of three, 2 s in", 1, 3, 2 * time.Second, 14 * time.Second},
		{"two of three, 3 s in", 2, 3, 3 * time.Second, 4810 * time.Millisecond},
		{"all three: the minimum, overdue", 3, 3, 4 * time.Second, -2 * time.Second},
		{"more than expected: never below the minimum", 4, 3, 5 * time.Second, -3 * time.Second},
		{"far overdue", 5, 3, 10 * time.Second, -8 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, remainingSuspicionTime(tc.n, tc.k, tc.elapsed, lo, hi))
		})
	}
	t.Run("no confirmations expected: the minimum", func(t *testing.T) {
		s := newSuspicion(core.NodeID{1}, 0, lo, hi, testEpoch)
		require.Equal(t, lo, s.remaining(testEpoch))
	})
}

func TestSuspicionCountsEachAccuserOnce(t *testing.T) {
	first, b, c, d := core.NodeID{1}, core.NodeID{2}, core.NodeID{3}, core.NodeID{4}
	s := newSuspicion(first, 2, time.Second, 6*time.Second, testEpoch)
	require.False(t, s.confirm(first), "the first accuser is not a confirmation")
	require.True(t, s.confirm(b))
	require.False(t, s.confirm(b), "a repeated accuser is not a new confirmation")
	require.True(t, s.confirm(c))
	require.False(t, s.confirm(d), "confirmations beyond k do not count")
	require.Equal(t, 2, s.confirmations())
	require.Equal(t, time.Second, s.remaining(testEpoch))
}

func TestSuspicionTimeoutsScaleWithClusterSize(t *testing.T) {
	cfg := DefaultLANConfig()
	for _, tc := range []struct {
		n        int
		min, max time.Duration
	}{
		{1, 4 * time.Second, 24 * time.Second},
		{10, 4 * time.Second, 24 * time.Second},
		{100, 8 * time.Second, 48 * time.Second},
		{1000, 12 * time.Second, 72 * time.Second},
	} {
		lo, hi := cfg.SuspicionTimeouts(tc.n)
		require.Equal(t, tc.min, lo, "n=%d", tc.n)
		require.Equal(t, tc.max, hi, "n=%d", tc.n)
	}
}

func TestAwarenessStaysInRangeAndScalesTimeouts(t *testing.T) {
	a := awareness{max: 8}
	require.Equal(t, time.Second, a.scale(time.Second))
	a.apply(-1)
	require.Zero(t, a.score, "health never goes below 0")
	a.apply(3)
	require.Equal(t, 4*time.Second, a.scale(time.Second))
	a.apply(100)
	require.Equal(t, 7, a.score, "health never reaches the maximum multiplier")
	require.Equal(t, 8*time.Second, a.scale(time.Second))
}

func TestBroadcastQueueRules(t *testing.T) {
	x, y := core.NodeID{1}, core.NodeID{2}
	nt := func(id core.NodeID, k kind, inc uint64, d byte) notice {
		return notice{subject: id, kind: k, inc: inc, digest: digest{d}}
	}
	t.Run("a newer notice supersedes older ones about the subject", func(t *testing.T) {
		var q broadcastQueue
		q.push(nt(x, kindAlive, 1, 1))
		q.push(nt(x, kindSuspect, 1, 2))
		q.push(nt(y, kindAlive, 1, 3))
		q.push(nt(x, kindAlive, 2, 4))
		got := q.take(10, 5, nil)
		require.ElementsMatch(t, []notice{nt(x, kindAlive, 2, 4), nt(y, kindAlive, 1, 3)}, got)
	})
	t.Run("confirmations of one suspicion coexist", func(t *testing.T) {
		var q broadcastQueue
		q.push(nt(x, kindSuspect, 1, 1))
		q.push(nt(x, kindSuspect, 1, 2))
		require.Equal(t, 2, q.len())
	})
	t.Run("each notice is sent retransmit times, least-sent first", func(t *testing.T) {
		var q broadcastQueue
		q.push(nt(x, kindAlive, 1, 1))
		require.Len(t, q.take(1, 2, nil), 1)
		q.push(nt(y, kindAlive, 1, 2))
		require.Equal(t, []notice{nt(y, kindAlive, 1, 2)}, q.take(1, 2, nil), "the unsent notice goes first")
		require.Len(t, q.take(5, 2, nil), 2)
		require.Zero(t, q.len(), "both reached their limit")
	})
	t.Run("notices about the buddy go first", func(t *testing.T) {
		var q broadcastQueue
		q.push(nt(x, kindSuspect, 1, 1))
		q.push(nt(y, kindAlive, 1, 2))
		require.Equal(t, []notice{nt(x, kindSuspect, 1, 1)}, q.take(1, 9, &x))
	})
	t.Run("the queue is bounded", func(t *testing.T) {
		var q broadcastQueue
		for i := range maxQueued + 10 {
			q.push(nt(core.NodeID{byte(i), byte(i >> 8)}, kindAlive, 1, 1))
		}
		require.Equal(t, maxQueued, q.len())
	})
}

func TestVerifyCacheForgetsOldestFirst(t *testing.T) {
	c := newVerifyCache(2)
	c.put([32]byte{1}, true)
	c.put([32]byte{2}, false)
	v, ok := c.get([32]byte{2})
	require.True(t, ok)
	require.False(t, v)
	c.put([32]byte{3}, true)
	_, ok = c.get([32]byte{1})
	require.False(t, ok, "the oldest result is forgotten")
	_, ok = c.get([32]byte{3})
	require.True(t, ok)
}

func TestConfigValidation(t *testing.T) {
	x := newIdent(t, "x")
	valid := func() Config {
		c := DefaultLANConfig()
		c.Signer, c.Keys = x.signer, NewStaticKeys(x.signer.Public())
		return c
	}
	for _, def := range []func() Config{DefaultLANConfig, DefaultWANConfig, DefaultLocalConfig} {
		c := def()
		c.Signer, c.Keys = x.signer, NewStaticKeys()
		require.NoError(t, c.validate())
	}
	tests := []struct {
		name   string
		change func(c *Config)
	}{
		{"no signer", func(c *Config) { c.Signer = nil }},
		{"no key resolver", func(c *Config) { c.Keys = nil }},
		{"probe timeout not below the interval", func(c *Config) { c.ProbeTimeout = c.ProbeInterval }},
		{"no gossip fan-out", func(c *Config) { c.GossipNodes = 0 }},
		{"datagram too small for a notice", func(c *Config) { c.MaxDatagramSize = 100 }},
		{"negative weight", func(c *Config) { c.Meta.Weight = -1 }},
		{"too many labels", func(c *Config) {
			c.Meta.Labels = map[string]string{}
			for i := range MaxLabels + 1 {
				c.Meta.Labels[string(rune('a'+i%26))+string(rune('a'+i/26))] = ""
			}
		}},
		{"oversized credential", func(c *Config) { c.Credential = make([]byte, MaxCredentialSize+1) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.change(&c)
			require.ErrorIs(t, c.validate(), core.ErrInvalidInput)
		})
	}
}

// The state machine refuses an accusation of an incarnation the member never
// announced even if it was verified (the pull filter is not the only guard).
func TestApplyRefusesAccusationOfUnannouncedIncarnation(t *testing.T) {
	x, a := newIdent(t, "x"), newIdent(t, "a")
	r := newRig(t, testConfig(), x, a)
	require.NoError(t, r.push(x, mustSign(t, x.signer, kindAlive, x.id, x.id, 5)))
	r.node.mutate(x.id, func(*outbox) {
		r.node.applyLocked(mustSign(t, a.signer, kindDead, x.id, a.id, 6), false, StateAlive)
	})
	st, inc := r.state(x.id)
	require.Equal(t, StateAlive, st)
	require.Equal(t, uint64(5), inc)
}
