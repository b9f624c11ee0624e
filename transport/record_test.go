package transport

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core/coretest"
)

// keypairPair returns the two ends of one set of traffic keys.
func keypairPair(t testing.TB, limit uint64) (initiator, responder *keypair) {
	t.Helper()
	suite := coretest.Suite()
	th := transcriptOf([]byte("test"))
	hs := bytes.Repeat([]byte{4}, 32)
	i, err := newKeypair(suite.AEAD, deriveTrafficKeys(suite, hs, th, true), 1, 2, true, testNow, limit)
	require.NoError(t, err)
	r, err := newKeypair(suite.AEAD, deriveTrafficKeys(suite, hs, th, false), 2, 1, false, testNow, limit)
	require.NoError(t, err)
	return i, r
}

func TestRecordSealOpen(t *testing.T) {
	i, r := keypairPair(t, 1<<20)
	var buf packetBuf
	for _, ct := range []contentType{contentKCP, contentDatagram, contentKeepalive, contentClose} {
		payload := bytes.Repeat([]byte{byte(ct)}, int(ct)*100)
		rec, err := i.seal(&buf, ct, payload)
		require.NoError(t, err)
		idx, err := recordIndex(rec)
		require.NoError(t, err)
		assert.Equal(t, r.localIndex, idx)
		gotCT, got, _, err := r.open(bytes.Clone(rec))
		require.NoError(t, err)
		assert.Equal(t, ct, gotCT)
		assert.Equal(t, payload, got)
		_, _, _, err = r.open(bytes.Clone(rec))
		assert.ErrorIs(t, err, errReplay)
	}
	// The sender cannot open its own records: directions have separate keys.
	rec, err := i.seal(&buf, contentDatagram, []byte("x"))
	require.NoError(t, err)
	_, _, _, err = i.open(bytes.Clone(rec))
	assert.ErrorIs(t, err, errRecordAuth)
	// The header is associated data: a changed counter fails to authenticate.
	bad := bytes.Clone(rec)
	bad[15] ^= 0x40
	_, _, _, err = r.open(bad)
	assert.ErrorIs(t, err, errRecordAuth)
}

func TestRecordCounterLimit(t *testing.T) {
	i, r := keypairPair(t, 3)
	var buf packetBuf
	for range 3 {
		rec, err := i.seal(&buf, contentKeepalive, nil)
		require.NoError(t, err)
		_, _, _, err = r.open(bytes.Clone(rec))
		require.NoError(t, err)
	}
	_, err := i.seal(&buf, contentKeepalive, nil)
	assert.ErrorIs(t, err, errKeysExhausted)
	_, err = i.seal(&buf, contentDatagram, make([]byte, maxSealedPayload+1))
	assert.ErrorIs(t, err, errRecordTooLarge)
}

// BenchmarkRecord measures sealing and opening one KCP-sized record; the
// hot path must not allocate.
func BenchmarkRecord(b *testing.B) {
	i, r := keypairPair(b, 1<<62)
	var sbuf packetBuf
	payload := make([]byte, 1167)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		rec, err := i.seal(&sbuf, contentKCP, payload)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, _, err := r.open(rec); err != nil {
			b.Fatal(err)
		}
	}
}
