package transport

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"sync"
	"time"
)

// cookieJar makes and checks stateless cookies:
//
//	cookie = HMAC-SHA-256(secret, address(16) | port(2) | Ni)[:16]
//
// The secret rotates every cookieRotation; a cookie made under the previous
// secret is still accepted, so a cookie lives between one and two periods.
type cookieJar struct {
	rand io.Reader

	mu      sync.Mutex
	cur     [32]byte
	prev    [32]byte
	hasPrev bool
	rotated time.Time
}

func newCookieJar(rand io.Reader, now time.Time) (*cookieJar, error) {
	j := &cookieJar{rand: rand, rotated: now}
	if _, err := io.ReadFull(rand, j.cur[:]); err != nil {
		return nil, fmt.Errorf("cookie secret: %w", err)
	}
	return j, nil
}

// rotate replaces the secrets that are too old at now.
func (j *cookieJar) rotate(now time.Time) {
	age := now.Sub(j.rotated)
	if age < cookieRotation {
		return
	}
	if age >= 2*cookieRotation {
		j.hasPrev = false // both secrets are stale
	} else {
		j.prev, j.hasPrev = j.cur, true
	}
	if _, err := io.ReadFull(j.rand, j.cur[:]); err != nil {
		// Without fresh randomness keep the old secret one more period
		// rather than fail open or closed; the next rotation retries.
		return
	}
	j.rotated = now
}

func cookieMAC(secret *[32]byte, addr netip.AddrPort, nonce [nonceSize]byte) [cookieSize]byte {
	var in [16 + 2 + nonceSize]byte
	a := addr.Addr().As16()
	copy(in[:16], a[:])
	binary.BigEndian.PutUint16(in[16:18], addr.Port())
	copy(in[18:], nonce[:])
	m := hmac.New(sha256.New, secret[:])
	m.Write(in[:])
	var out [cookieSize]byte
	copy(out[:], m.Sum(nil))
	return out
}

// make returns the cookie for an M1 nonce from addr.
func (j *cookieJar) make(now time.Time, addr netip.AddrPort, nonce [nonceSize]byte) [cookieSize]byte {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.rotate(now)
	return cookieMAC(&j.cur, addr, nonce)
}

// check reports whether cookie is valid for an M1 nonce from addr.
func (j *cookieJar) check(now time.Time, addr netip.AddrPort, nonce [nonceSize]byte, cookie []byte) bool {
	if len(cookie) != cookieSize {
		return false
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.rotate(now)
	want := cookieMAC(&j.cur, addr, nonce)
	if hmac.Equal(want[:], cookie) {
		return true
	}
	if !j.hasPrev {
		return false
	}
	want = cookieMAC(&j.prev, addr, nonce)
	return hmac.Equal(want[:], cookie)
}
