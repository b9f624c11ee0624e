package transport

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core/coretest/fakenet"
)

// recorder captures (and optionally withholds) record datagrams from one address.
type recorder struct {
	mu       sync.Mutex
	from     string
	on       bool
	withhold bool
	got      [][]byte
}

func (r *recorder) hook(pk *fakenet.Packet) fakenet.Verdict {
	if pk.From.String() != r.from || packetType(pk.Payload[0]) != typeRecord {
		return fakenet.Deliver
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.on {
		return fakenet.Deliver
	}
	r.got = append(r.got, append([]byte(nil), pk.Payload...))
	if r.withhold {
		return fakenet.Drop
	}
	return fakenet.Deliver
}

func (r *recorder) set(on, withhold bool) []([]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.on, r.withhold = on, withhold
	got := r.got
	if on {
		r.got = nil
	}
	return got
}

// noDatagram asserts that nothing arrives on s for a while.
func noDatagram(t *testing.T, s *Session) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	d, err := s.ReceiveDatagram(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "unexpected datagram %q", d)
}

// findDatagram returns the captured record that carries datagram want,
// decrypting copies with the receiver's keys (its replay window untouched).
func findDatagram(t *testing.T, kp *keypair, recs [][]byte, want string) []byte {
	t.Helper()
	for _, r := range recs {
		b := append([]byte(nil), r...)
		nonce := sealNonce(nil, kp.recvIV, binary.BigEndian.Uint64(b[8:16]))
		pt, err := kp.recv.Open(nil, nonce, b[recordHeaderSize:], b[:recordHeaderSize])
		if err == nil && contentType(pt[0]) == contentDatagram && string(pt[1:]) == want {
			return r
		}
	}
	t.Fatalf("no captured record carries %q", want)
	return nil
}

func TestReplayedRecordsAreRefused(t *testing.T) {
	p := newPair(t, nil)
	sa, sb := p.connect(t)
	rec := &recorder{from: addrA}
	p.net.SetHook(rec.hook)
	rec.set(true, false)
	require.NoError(t, sa.SendDatagram([]byte("once")))
	d, err := sb.ReceiveDatagram(ctxT(t, 2*time.Second))
	require.NoError(t, err)
	require.Equal(t, "once", string(d))
	captured := rec.set(false, false)
	require.NotEmpty(t, captured)

	before := p.b.Metrics().ReplayDrops
	for _, r := range captured {
		p.net.Inject(apA, apB, r)
	}
	eventually(t, 2*time.Second, func() bool { return p.b.Metrics().ReplayDrops-before >= uint64(len(captured)) }, "replays counted")
	noDatagram(t, sb)
}

func TestReorderedRecordsAreAcceptedOnce(t *testing.T) {
	p := newPair(t, nil)
	sa, sb := p.connect(t)
	rec := &recorder{from: addrA}
	p.net.SetHook(rec.hook)
	rec.set(true, true)
	const n = 20
	for i := range n {
		require.NoError(t, sa.SendDatagram([]byte(fmt.Sprint(i))))
	}
	held := rec.set(false, false)
	require.GreaterOrEqual(t, len(held), n)
	for i := len(held) - 1; i >= 0; i-- { // reverse order
		p.net.Inject(apA, apB, held[i])
	}
	seen := map[string]bool{}
	for range n {
		d, err := sb.ReceiveDatagram(ctxT(t, 2*time.Second))
		require.NoError(t, err)
		assert.False(t, seen[string(d)], "datagram %q delivered twice", d)
		seen[string(d)] = true
	}
	assert.Len(t, seen, n)
	for _, r := range held { // and again: every copy is now a replay
		p.net.Inject(apA, apB, r)
	}
	noDatagram(t, sb)
}

func TestForgedRecordsAreRefused(t *testing.T) {
	p := newPair(t, nil)
	sa, sb := p.connect(t)
	rec := &recorder{from: addrA}
	p.net.SetHook(rec.hook)
	rec.set(true, true)
	require.NoError(t, sa.SendDatagram([]byte("genuine")))
	held := rec.set(false, false)
	require.NotEmpty(t, held)
	genuine := findDatagram(t, sb.current.Load(), held, "genuine")

	forge := map[string]func(b []byte){
		"ciphertext bit": func(b []byte) { b[len(b)-20] ^= 1 },
		"tag bit":        func(b []byte) { b[len(b)-1] ^= 1 },
		"counter (nonce)": func(b []byte) {
			binary.BigEndian.PutUint64(b[8:16], binary.BigEndian.Uint64(b[8:16])+1000)
		},
		"far future counter": func(b []byte) {
			binary.BigEndian.PutUint64(b[8:16], 1<<40)
		},
		"content type byte": func(b []byte) { b[recordHeaderSize] ^= 1 },
		"truncated":         nil,
	}
	for name, f := range forge {
		b := append([]byte(nil), genuine...)
		if f == nil {
			b = b[:len(b)-5]
		} else {
			f(b)
		}
		before := p.b.Metrics()
		p.net.Inject(apA, apB, b)
		eventually(t, 2*time.Second, func() bool { return p.b.Metrics().AuthFailures > before.AuthFailures }, name+": not refused")
		assert.Equal(t, before.AuthFailures+1, p.b.Metrics().AuthFailures, name)
	}
	noDatagram(t, sb)
	// A forged far-future counter did not move the replay window: the
	// genuine record still arrives.
	p.net.Inject(apA, apB, genuine)
	d, err := sb.ReceiveDatagram(ctxT(t, 2*time.Second))
	require.NoError(t, err)
	assert.Equal(t, "genuine", string(d))
}

// Records under keys replaced by a rekey are accepted during the grace
// period and refused after the reject time.
func TestRecordUnderOldKeyAfterRejectTime(t *testing.T) {
	p := newPair(t, func(_ string, c *Config) { c.IdleTimeout = time.Hour })
	sa, sb := p.connect(t)
	rec := &recorder{from: addrA}
	p.net.SetHook(rec.hook)
	rec.set(true, true)
	require.NoError(t, sa.SendDatagram([]byte("early")))
	require.NoError(t, sa.SendDatagram([]byte("late")))
	held := rec.set(false, false)
	oldKey := sa.current.Load()
	early := findDatagram(t, sb.current.Load(), held, "early")
	late := findDatagram(t, sb.current.Load(), held, "late")

	p.clk.Advance(DefaultRekeyAfter + time.Second)
	eventually(t, 5*time.Second, func() bool {
		return sa.current.Load() != oldKey && p.b.Metrics().Rekeys >= 1
	}, "rekey")
	p.net.Inject(apA, apB, early) // in the grace period: accepted
	d, err := sb.ReceiveDatagram(ctxT(t, 2*time.Second))
	require.NoError(t, err)
	assert.Equal(t, "early", string(d))

	p.clk.Advance(DefaultRejectAfter - DefaultRekeyAfter)
	before := p.b.Metrics()
	p.net.Inject(apA, apB, late) // after the reject time: refused
	eventually(t, 2*time.Second, func() bool {
		m := p.b.Metrics()
		return m.ExpiredKeyDrops+m.UnknownIndex > before.ExpiredKeyDrops+before.UnknownIndex
	}, "old key refused")
	noDatagram(t, sb)
	assert.Nil(t, sb.Err(), "the session itself lives on under the new keys")
}
