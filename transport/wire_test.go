package transport

import (
	"bytes"
	"crypto/rand"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core"
)

func sampleM1(t testing.TB, epkLen int, cookie []byte) *m1 {
	m := &m1{version: protocolVersion, suite: 0x00410002, initIndex: 0xdeadbeef, epk: make([]byte, epkLen), cookie: cookie}
	_, err := rand.Read(m.nonce[:])
	require.NoError(t, err)
	rand.Read(m.hint[:])
	rand.Read(m.epk)
	return m
}

func TestM1RoundTripFillsWholeFragments(t *testing.T) {
	for _, tc := range []struct {
		name   string
		epk    int
		cookie []byte
	}{
		{"ML-KEM-768 without cookie", 1184, nil},
		{"ML-KEM-768 with cookie", 1184, bytes.Repeat([]byte{9}, cookieSize)},
		{"X-Wing", 1216, nil},
		{"ML-KEM-1024", 1568, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := sampleM1(t, tc.epk, tc.cookie)
			b := m.marshal()
			assert.Zero(t, len(b)%fragmentPayload, "M1 must fill its fragments")
			got, err := parseM1(b)
			require.NoError(t, err)
			assert.Equal(t, m.nonce, got.nonce)
			assert.Equal(t, m.hint, got.hint)
			assert.Equal(t, m.epk, got.epk)
			assert.Equal(t, m.suite, got.suite)
			assert.Equal(t, m.initIndex, got.initIndex)
			assert.Equal(t, len(tc.cookie), len(got.cookie))
		})
	}
}

func TestM1ParseRefusesMalformed(t *testing.T) {
	good := sampleM1(t, 1184, nil).marshal()
	cases := map[string][]byte{
		"non-zero padding":  func() []byte { b := bytes.Clone(good); b[len(b)-1] = 1; return b }(),
		"trailing byte":     append(bytes.Clone(good), 0),
		"cookie of 5 bytes": (&m1{epk: make([]byte, 10), cookie: make([]byte, 5)}).marshal(),
		"empty":             nil,
	}
	for name, b := range cases {
		_, err := parseM1(b)
		assert.ErrorIs(t, err, core.ErrInvalidInput, name)
	}
	for n := range len(good) - 1 { // every truncation that cuts a field
		if _, err := parseM1(good[:n]); err == nil {
			t.Fatalf("truncated M1 of %d bytes parsed", n)
		}
	}
}

func TestFragmentsReassembleInAnyOrder(t *testing.T) {
	msg := make([]byte, 5*fragmentPayload+17)
	rand.Read(msg)
	frags := fragmentMessage(typeM2, 42, msg)
	require.Len(t, frags, 6)
	for _, f := range frags {
		assert.LessOrEqual(t, len(f), maxDatagram)
	}
	order := []int{5, 0, 3, 3, 1, 4, 2} // with a duplicate
	var r *reassembly
	var got []byte
	for i, idx := range order {
		f, err := parseFragment(frags[idx])
		require.NoError(t, err)
		assert.Equal(t, uint32(42), f.index)
		if r == nil {
			r = newReassembly(f, testNow)
		}
		out, err := r.add(f, len(frags[idx]))
		require.NoError(t, err)
		if i < len(order)-1 {
			assert.Nil(t, out)
		}
		got = out
	}
	assert.Equal(t, msg, got)
}

func TestFragmentParseRules(t *testing.T) {
	msg := make([]byte, 2*fragmentPayload+1)
	frags := fragmentMessage(typeM3, 1, msg)
	mut := func(i int, f func([]byte) []byte) []byte { return f(bytes.Clone(frags[i])) }
	cases := map[string][]byte{
		"oversized":              append(bytes.Clone(frags[0]), 1),
		"short header":           frags[0][:fragmentHeaderSize-1],
		"not a handshake type":   mut(0, func(b []byte) []byte { b[0] = byte(typeRecord); return b }),
		"reserved byte":          mut(0, func(b []byte) []byte { b[3] = 1; return b }),
		"count mismatch":         mut(0, func(b []byte) []byte { b[2] = 2; return b }),
		"index out of range":     mut(2, func(b []byte) []byte { b[1] = 3; return b }),
		"last fragment too long": append(bytes.Clone(frags[2]), 0),
		"first fragment short":   frags[0][:len(frags[0])-1],
		"zero total":             mut(0, func(b []byte) []byte { b[8], b[9] = 0, 0; return b }),
		"M1 beyond its size":     mut(0, func(b []byte) []byte { b[0] = byte(typeM1); b[8], b[9] = 0xff, 0xff; return b }),
		"message beyond the max": mut(0, func(b []byte) []byte { b[8], b[9] = 0xff, 0xff; return b }),
	}
	for name, b := range cases {
		_, err := parseFragment(b)
		assert.ErrorIs(t, err, core.ErrInvalidInput, name)
	}
	// A fragment that disagrees with the first one breaks the reassembly.
	f0, err := parseFragment(frags[0])
	require.NoError(t, err)
	r := newReassembly(f0, testNow)
	_, err = r.add(f0, len(frags[0]))
	require.NoError(t, err)
	other := fragmentMessage(typeM3, 1, make([]byte, 3*fragmentPayload))
	f1, err := parseFragment(other[1])
	require.NoError(t, err)
	_, err = r.add(f1, len(other[1]))
	assert.ErrorIs(t, err, core.ErrInvalidInput)
}

func TestHandshakePayloadRoundTripAndRules(t *testing.T) {
	chain := [][]byte{bytes.Repeat([]byte{1}, 300), bytes.Repeat([]byte{2}, 200)}
	for _, initiator := range []bool{false, true} {
		for _, id := range []identity{
			{kind: certChain, chain: chain},
			{kind: certReference, reference: [32]byte{7}, intent: intentRekey, sessionID: [8]byte{1, 2}},
		} {
			if !initiator {
				id.intent, id.sessionID = 0, [8]byte{}
			}
			idBytes := id.marshal(initiator)
			b := marshalPayload(idBytes, []byte("signature"), bytes.Repeat([]byte{5}, finishedSize))
			require.Equal(t, payloadSize(len(idBytes), 9), len(b))
			p, err := parsePayload(b, initiator)
			require.NoError(t, err)
			assert.Equal(t, id.kind, p.id.kind)
			assert.Equal(t, idBytes, p.idBytes)
			assert.Equal(t, "signature", string(p.sig))
			assert.Equal(t, id.intent, p.id.intent)
			if id.kind == certChain {
				assert.Equal(t, chain, p.id.chain)
			} else {
				assert.Equal(t, id.reference, p.id.reference)
			}
		}
	}
	fin := bytes.Repeat([]byte{5}, finishedSize)
	bad := map[string][]byte{
		"no certificates":   marshalPayload([]byte{byte(certChain), 0}, []byte("s"), fin),
		"nine certificates": marshalPayload(append([]byte{byte(certChain), 9}, bytes.Repeat([]byte{0, 1, 1}, 9)...), []byte("s"), fin),
		"empty certificate": marshalPayload([]byte{byte(certChain), 1, 0, 0}, []byte("s"), fin),
		"unknown kind":      marshalPayload([]byte{7}, []byte("s"), fin),
		"empty signature":   marshalPayload([]byte{byte(certReference), 1: 0, 32: 0}, nil, fin),
		"short finished":    marshalPayload((&identity{kind: certChain, chain: chain}).marshal(false), []byte("s"), fin[:31]),
		"trailing byte":     append(marshalPayload((&identity{kind: certChain, chain: chain}).marshal(false), []byte("s"), fin), 0),
	}
	for name, b := range bad {
		_, err := parsePayload(b, false)
		assert.ErrorIs(t, err, core.ErrInvalidInput, name)
	}
	_, err := parsePayload(append([]byte{9, 0, 0, 0, 0, 0, 0, 0, 0}, (&identity{kind: certChain, chain: chain}).marshal(false)...), true)
	assert.ErrorIs(t, err, core.ErrInvalidInput, "unknown intent")
}

func TestCookieReplyRoundTrip(t *testing.T) {
	c := cookieReply{initIndex: 77, nonce: [32]byte{1, 2, 3}, cookie: [16]byte{4, 5}}
	b := c.marshal()
	assert.Len(t, b, cookieReplySize)
	got, err := parseCookieReply(b)
	require.NoError(t, err)
	assert.Equal(t, c, *got)
	b[2] = 1
	_, err = parseCookieReply(b)
	assert.ErrorIs(t, err, core.ErrInvalidInput)
	_, err = parseCookieReply(b[:10])
	assert.ErrorIs(t, err, core.ErrInvalidInput)
}

func TestM2AndM3HeadsParse(t *testing.T) {
	h := m2Clear{respIndex: 1, initIndex: 2, nonce: [32]byte{3}, ct: []byte("ciphertext")}
	msg := append(h.marshal(), "sealed"...)
	got, clear, sealed, err := parseM2(msg)
	require.NoError(t, err)
	assert.Equal(t, h.ct, got.ct)
	assert.Equal(t, h.marshal(), clear)
	assert.Equal(t, "sealed", string(sealed))
	_, _, _, err = parseM2(msg[:20])
	assert.ErrorIs(t, err, core.ErrInvalidInput)

	h3 := m3Clear{respIndex: 5, initIndex: 6}
	head, clear3, sealed3, err := parseM3(append(h3.marshal(), "x"...))
	require.NoError(t, err)
	assert.Equal(t, h3, head)
	assert.Len(t, clear3, m3ClearSize)
	assert.Equal(t, "x", string(sealed3))
	_, _, _, err = parseM3([]byte{1, 2})
	assert.ErrorIs(t, err, core.ErrInvalidInput)
}
