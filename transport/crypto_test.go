package transport

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core/coretest"
)

// transcriptOf hashes the given messages in order.
func transcriptOf(msgs ...[]byte) []byte {
	t := newTranscript()
	for _, m := range msgs {
		t.add(m)
	}
	return t.sum()
}

func TestTranscriptIsUnambiguous(t *testing.T) {
	assert.NotEqual(t, transcriptOf([]byte("ab"), []byte("c")), transcriptOf([]byte("a"), []byte("bc")))
	assert.NotEqual(t, transcriptOf([]byte("a")), transcriptOf([]byte("a"), nil))
	base := newTranscript().add([]byte("m1"))
	branch := base.clone().add([]byte("m2"))
	assert.Equal(t, transcriptOf([]byte("m1")), base.sum(), "cloning must not change the original")
	assert.Equal(t, transcriptOf([]byte("m1"), []byte("m2")), branch.sum())
}

// expandLabel follows the documented layout (PROTOCOL.md), recomputed here
// independently with crypto/hkdf, at every output length the key schedule
// uses and beyond one hash block; one expander serves many labels.
func TestExpandLabelLayout(t *testing.T) {
	secret := bytes.Repeat([]byte{3}, 32)
	x := newExpander(secret)
	for _, n := range []int{4, 8, 12, 24, 32, 33, 64} {
		for _, label := range []string{"r hs iv", "i2r key"} {
			full := "ctv1 " + label
			info := binary.BigEndian.AppendUint16(nil, uint16(n))
			info = append(info, byte(len(full)))
			info = append(info, full...)
			info = append(info, 2, 0xaa, 0xbb)
			want, err := hkdf.Expand(sha256.New, secret, string(info), n)
			require.NoError(t, err)
			assert.Equal(t, want, expandLabel(secret, label, []byte{0xaa, 0xbb}, n), "%s, %d bytes", label, n)
			assert.Equal(t, want, x.label(label, []byte{0xaa, 0xbb}, n), "reused expander: %s, %d bytes", label, n)
		}
	}
}

func TestHandshakeKeysAreSeparateAndBoundToInputs(t *testing.T) {
	suite := coretest.Suite()
	ss, th := bytes.Repeat([]byte{1}, 32), transcriptOf([]byte("m1"), []byte("m2 head"))
	k := deriveHandshakeKeys(suite, ss, th)
	outs := [][]byte{k.respKey, k.initKey, k.respFinished, k.initFinished}
	for i := range outs {
		for j := range i {
			assert.NotEqual(t, outs[i], outs[j], "outputs %d and %d collide", i, j)
		}
	}
	assert.NotEqual(t, k.respIV, k.initIV)
	ss2 := bytes.Clone(ss)
	ss2[31] ^= 1
	th2 := bytes.Clone(th)
	th2[0] ^= 1
	for name, other := range map[string]handshakeKeys{"secret": deriveHandshakeKeys(suite, ss2, th), "transcript": deriveHandshakeKeys(suite, ss, th2)} {
		assert.NotEqual(t, k.respKey, other.respKey, name)
		assert.NotEqual(t, k.initKey, other.initKey, name)
		assert.NotEqual(t, k.respFinished, other.respFinished, name)
	}
}

func TestTrafficKeysMirrorBetweenRoles(t *testing.T) {
	suite := coretest.Suite()
	hs, th3 := bytes.Repeat([]byte{2}, 32), transcriptOf([]byte("all"))
	i := deriveTrafficKeys(suite, hs, th3, true)
	r := deriveTrafficKeys(suite, hs, th3, false)
	assert.Equal(t, i.sendKey, r.recvKey)
	assert.Equal(t, i.recvKey, r.sendKey)
	assert.Equal(t, i.sendIV, r.recvIV)
	assert.NotEqual(t, i.sendKey, i.recvKey, "directions share a key")
	assert.Equal(t, i.sessionID, r.sessionID)
	assert.Equal(t, i.conv, r.conv)
	other := deriveTrafficKeys(suite, hs, transcriptOf([]byte("other")), true)
	assert.NotEqual(t, i.sendKey, other.sendKey)
	assert.NotEqual(t, i.sessionID, other.sessionID)
}

func TestSealNonceXorsCounter(t *testing.T) {
	iv := bytes.Repeat([]byte{0xf0}, 12)
	n0 := sealNonce(nil, iv, 0)
	assert.Equal(t, iv, n0)
	n := sealNonce(nil, iv, 0x0102)
	assert.Equal(t, iv[:10], n[:10])
	assert.Equal(t, []byte{0xf0 ^ 1, 0xf0 ^ 2}, n[10:])
	assert.NotEqual(t, sealNonce(nil, iv, 1), sealNonce(nil, iv, 2))
}

func TestChainHintAndFingerprint(t *testing.T) {
	fp := chainFingerprint([][]byte{[]byte("leaf"), []byte("inter")})
	assert.NotEqual(t, fp, chainFingerprint([][]byte{[]byte("inter"), []byte("leaf")}), "order matters")
	n1, n2 := [32]byte{1}, [32]byte{2}
	h1 := chainHint(fp, n1)
	m := hmac.New(sha256.New, fp[:])
	m.Write(n1[:])
	assert.Equal(t, m.Sum(nil), h1[:])
	assert.NotEqual(t, h1, chainHint(fp, n2), "a hint is per handshake")
}

func TestCookieRules(t *testing.T) {
	now := testNow
	j, err := newCookieJar(bytes.NewReader(bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7}, 100)), now)
	require.NoError(t, err)
	addr := netip.MustParseAddrPort("192.0.2.1:4000")
	nonce := [32]byte{9}
	c := j.make(now, addr, nonce)
	cases := []struct {
		name  string
		at    time.Duration
		addr  netip.AddrPort
		nonce [32]byte
		mut   func([]byte) []byte
		want  bool
	}{
		{"same source and nonce", 0, addr, nonce, nil, true},
		{"other address", 0, netip.MustParseAddrPort("192.0.2.2:4000"), nonce, nil, false},
		{"other port", 0, netip.MustParseAddrPort("192.0.2.1:4001"), nonce, nil, false},
		{"other nonce", 0, addr, [32]byte{8}, nil, false},
		{"tampered", 0, addr, nonce, func(b []byte) []byte { b[0] ^= 1; return b }, false},
		{"truncated", 0, addr, nonce, func(b []byte) []byte { return b[:15] }, false},
		{"after one rotation", cookieRotation + time.Second, addr, nonce, nil, true},
		{"after two rotations", 2*cookieRotation + 2*time.Second, addr, nonce, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j, err := newCookieJar(bytes.NewReader(bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7}, 100)), now)
			require.NoError(t, err)
			cookie := bytes.Clone(c[:])
			if tc.mut != nil {
				cookie = tc.mut(cookie)
			}
			if tc.at > cookieRotation {
				j.check(now.Add(cookieRotation+time.Second), addr, nonce, cookie) // a rotation happens in between
			}
			assert.Equal(t, tc.want, j.check(now.Add(tc.at), tc.addr, tc.nonce, cookie))
		})
	}
}

func TestRateLimiterRules(t *testing.T) {
	now := testNow
	r := newRateLimiter(1, 3, 4)
	ip := netip.MustParseAddr("192.0.2.1")
	for i := range 3 {
		assert.True(t, r.allow(now, ip), "burst %d", i)
	}
	assert.False(t, r.allow(now, ip), "beyond the burst")
	assert.True(t, r.allow(now.Add(1100*time.Millisecond), ip), "refilled")

	// An IPv6 /64 is one source.
	a := netip.MustParseAddr("2001:db8::1")
	b := netip.MustParseAddr("2001:db8::ffff")
	c := netip.MustParseAddr("2001:db8:0:1::1")
	r6 := newRateLimiter(1, 1, 10)
	assert.True(t, r6.allow(now, a))
	assert.False(t, r6.allow(now, b), "same /64 shares the bucket")
	assert.True(t, r6.allow(now, c), "another /64 has its own")

	// The table is bounded: a new source is refused while every tracked one
	// is active, and admitted once idle ones can be forgotten.
	rb := newRateLimiter(1, 2, 2)
	assert.True(t, rb.allow(now, netip.MustParseAddr("10.0.0.1")))
	assert.True(t, rb.allow(now, netip.MustParseAddr("10.0.0.2")))
	assert.False(t, rb.allow(now, netip.MustParseAddr("10.0.0.3")))
	assert.True(t, rb.allow(now.Add(3*time.Second), netip.MustParseAddr("10.0.0.3")))
	assert.LessOrEqual(t, rb.size(), 2)
}

func TestNonceCacheRules(t *testing.T) {
	c := newNonceCache(time.Minute, 3)
	n := func(b byte) [32]byte { return [32]byte{b} }
	assert.True(t, c.add(testNow, n(1)))
	assert.False(t, c.add(testNow, n(1)), "replay")
	assert.True(t, c.add(testNow.Add(2*time.Minute), n(1)), "expired")
	c.remove(n(1))
	assert.True(t, c.add(testNow.Add(2*time.Minute), n(1)), "removed")
	for b := range byte(10) {
		c.add(testNow.Add(3*time.Minute), n(b+10))
	}
	assert.LessOrEqual(t, len(c.seen), 3, "bounded")
}
