package pki

import (
	"crypto/sha256"
	"encoding/binary"
	"sync"
)

// DefaultSignatureMemoSize is how many verified certificate signatures a new
// TrustStore remembers: a cluster's leaves and its CAs, with room to spare,
// in about 200 KiB.
const DefaultSignatureMemoSize = 4096

// signatureMemo remembers certificate signatures that verified, so a chain
// seen again (a peer's, at every handshake and rekey) does not pay its
// signature verifications again. It memoizes nothing but the pure signature
// check: the key is a SHA-256 over exactly that check's inputs (the
// signature algorithm, the issuer key's algorithm and bytes, the signed TBS
// bytes and the signature), and only a check that succeeded is remembered.
// Everything else Verify does (validity at the verification time, the CA
// rules, names, revocation, the path to a trusted root) runs every time.
//
// Eviction is CLOCK (second chance), so an intermediate that every chain
// shares stays while one-off leaves come and go. A nil *signatureMemo
// remembers nothing.
type signatureMemo struct {
	mu    sync.Mutex
	index map[[32]byte]int // memo key → slot
	slots []memoSlot
	used  int // slots[:used] are filled
	hand  int // next slot the clock examines
}

type memoSlot struct {
	key        [32]byte
	referenced bool // set on a hit, cleared as the hand passes
}

// newSignatureMemo returns a memo of at most entries signatures, or nil for
// entries ≤ 0.
func newSignatureMemo(entries int) *signatureMemo {
	if entries <= 0 {
		return nil
	}
	return &signatureMemo{index: make(map[[32]byte]int, entries), slots: make([]memoSlot, entries)}
}

// memoLabel separates memo keys from any other SHA-256 input.
const memoLabel = "clustering/pki certificate signature memo v1"

// signatureKey returns the memo key of c's signature under issuer's key.
func signatureKey(c, issuer *Certificate) [32]byte {
	h := sha256.New()
	field := func(b []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	field([]byte(memoLabel))
	field([]byte(c.SignatureScheme.OID().String()))
	field([]byte(issuer.PublicKey.Scheme().OID().String()))
	field(issuer.PublicKey.Bytes())
	field(c.RawTBSCertificate)
	field(c.Signature)
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// contains reports whether the signature with key k verified before.
func (m *signatureMemo) contains(k [32]byte) bool {
	if m == nil {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	i, ok := m.index[k]
	if ok {
		m.slots[i].referenced = true
	}
	return ok
}

// add remembers signatures that verified, evicting the first slot the clock
// hand finds unreferenced when the memo is full.
func (m *signatureMemo) add(keys ...[32]byte) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		if _, ok := m.index[k]; ok {
			continue
		}
		if m.used < len(m.slots) {
			m.slots[m.used] = memoSlot{key: k}
			m.index[k] = m.used
			m.used++
			continue
		}
		for m.slots[m.hand].referenced {
			m.slots[m.hand].referenced = false
			m.hand = (m.hand + 1) % len(m.slots)
		}
		delete(m.index, m.slots[m.hand].key)
		m.slots[m.hand] = memoSlot{key: k}
		m.index[k] = m.hand
		m.hand = (m.hand + 1) % len(m.slots)
	}
}

// size returns how many signatures the memo holds.
func (m *signatureMemo) size() int {
	if m == nil {
		return 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.index)
}
