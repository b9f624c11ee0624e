package transport

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"hash"

	"github.com/snowmerak/clustering/core"
)

// protocolLabel starts every transcript and prefixes every HKDF label, so
// keys and signatures of this protocol cannot be confused with another's.
const protocolLabel = "clustering transport v1"

// Signature contexts name the role that signs (FIPS 204 / Ed25519ctx
// context strings), so a responder's signature never verifies as an
// initiator's.
var (
	contextResponder = []byte(protocolLabel + " responder signature")
	contextInitiator = []byte(protocolLabel + " initiator signature")
)

// transcript is the running SHA-256 over the protocol label and every
// handshake message, each prefixed with its 32-bit length so that no two
// sequences of messages hash alike.
type transcript struct{ h hash.Hash }

func newTranscript() *transcript {
	t := &transcript{h: sha256.New()}
	t.h.Write([]byte(protocolLabel))
	return t
}

// add appends one message to the transcript.
func (t *transcript) add(b []byte) *transcript {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(b)))
	t.h.Write(n[:])
	t.h.Write(b)
	return t
}

// sum returns the hash so far without ending the transcript.
func (t *transcript) sum() []byte { return t.h.Sum(nil) }

// clone returns an independent copy, to branch the transcript.
func (t *transcript) clone() *transcript {
	c, err := t.h.(hash.Cloner).Clone()
	if err != nil {
		panic("transport: sha256 cannot clone: " + err.Error()) // sha256 always can
	}
	return &transcript{h: c}
}

// expandLabel is HKDF-Expand with a TLS 1.3 style label:
// info = length u16 | len u8 | "ctv1 " + label | len u8 | context.
func expandLabel(secret []byte, label string, context []byte, length int) []byte {
	return newExpander(secret).label(label, context, length)
}

// expander runs expandLabel for one secret, keying HMAC once for all the
// labels derived from it.
type expander struct {
	secret []byte
	mac    hash.Hash
}

func newExpander(secret []byte) *expander {
	return &expander{secret: secret, mac: hmac.New(sha256.New, secret)}
}

// label is expandLabel(x.secret, label, context, length). An output of at
// most one hash is HKDF-Expand's first block, T(1) = HMAC(secret, info |
// 0x01) (RFC 5869 §2.3); longer ones go to crypto/hkdf.
func (x *expander) label(label string, context []byte, length int) []byte {
	full := "ctv1 " + label
	info := make([]byte, 0, 2+1+len(full)+1+len(context)+1)
	info = binary.BigEndian.AppendUint16(info, uint16(length))
	info = append(info, byte(len(full)))
	info = append(info, full...)
	info = append(info, byte(len(context)))
	info = append(info, context...)
	if length > sha256.Size {
		out, err := hkdf.Expand(sha256.New, x.secret, string(info), length)
		if err != nil {
			panic("transport: hkdf expand: " + err.Error()) // only for absurd lengths
		}
		return out
	}
	x.mac.Reset()
	x.mac.Write(append(info, 1))
	return x.mac.Sum(nil)[:length]
}

// handshakeKeys are the secrets of one handshake, derived from the KEM shared
// secret and the transcript up to M2's cleartext head (TH1).
type handshakeKeys struct {
	secret          []byte // the handshake secret, input to trafficKeys
	respKey, respIV []byte // protect M2's payload and a reject
	initKey, initIV []byte // protect M3's payload
	respFinished    []byte // HMAC key of the responder's Finished
	initFinished    []byte // HMAC key of the initiator's Finished
}

// deriveHandshakeKeys is the first step of the key schedule:
//
//	hs = HKDF-Extract(salt = TH1, ikm = shared secret)
//	resp/init key, iv, finished = HKDF-Expand-Label(hs, "<role> hs key|hs iv|finished", "")
func deriveHandshakeKeys(suite core.Suite, sharedSecret, th1 []byte) handshakeKeys {
	hs, err := hkdf.Extract(sha256.New, sharedSecret, th1)
	if err != nil {
		panic("transport: hkdf extract: " + err.Error())
	}
	ks, ns := suite.AEAD.KeySize(), suite.AEAD.NonceSize()
	x := newExpander(hs)
	return handshakeKeys{
		secret:       hs,
		respKey:      x.label("r hs key", nil, ks),
		respIV:       x.label("r hs iv", nil, ns),
		initKey:      x.label("i hs key", nil, ks),
		initIV:       x.label("i hs iv", nil, ns),
		respFinished: x.label("r finished", nil, sha256.Size),
		initFinished: x.label("i finished", nil, sha256.Size),
	}
}

// trafficKeys are one session keypair's secrets, one key and IV per direction.
type trafficKeys struct {
	sendKey, sendIV []byte
	recvKey, recvIV []byte
	sessionID       [sessionIDSize]byte // names the session (first handshake)
	conv            uint32              // the KCP conversation (first handshake)
}

// deriveTrafficKeys is the last step of the key schedule, over the whole
// transcript TH3 = H(M1, M2, M3):
//
//	master = HKDF-Expand-Label(hs, "master", TH3)
//	i2r/r2i key, iv = HKDF-Expand-Label(master, "i2r key" ...)
//
// initiator selects which direction is "send".
func deriveTrafficKeys(suite core.Suite, hs, th3 []byte, initiator bool) trafficKeys {
	master := expandLabel(hs, "master", th3, sha256.Size)
	ks, ns := suite.AEAD.KeySize(), suite.AEAD.NonceSize()
	x := newExpander(master)
	i2rKey, i2rIV := x.label("i2r key", nil, ks), x.label("i2r iv", nil, ns)
	r2iKey, r2iIV := x.label("r2i key", nil, ks), x.label("r2i iv", nil, ns)
	k := trafficKeys{sendKey: i2rKey, sendIV: i2rIV, recvKey: r2iKey, recvIV: r2iIV}
	if !initiator {
		k.sendKey, k.sendIV, k.recvKey, k.recvIV = r2iKey, r2iIV, i2rKey, i2rIV
	}
	copy(k.sessionID[:], x.label("session id", nil, sessionIDSize))
	k.conv = binary.BigEndian.Uint32(x.label("kcp conv", nil, 4))
	return k
}

// finishedMAC is HMAC-SHA-256(key, transcript hash).
func finishedMAC(key, th []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(th)
	return m.Sum(nil)
}

// chainHint is M1's hint that the initiator holds the responder chain with
// the given fingerprint: HMAC-SHA-256(fingerprint, Ni). It reveals nothing
// to whoever does not already know the chain, and it differs per handshake.
func chainHint(fingerprint [fingerprintSize]byte, nonce [nonceSize]byte) [hintSize]byte {
	var out [hintSize]byte
	m := hmac.New(sha256.New, fingerprint[:])
	m.Write(nonce[:])
	copy(out[:], m.Sum(nil))
	return out
}

// chainFingerprint names a chain: SHA-256 over its certificates' SHA-256
// fingerprints, leaf first.
func chainFingerprint(ders [][]byte) [fingerprintSize]byte {
	h := sha256.New()
	for _, d := range ders {
		fp := sha256.Sum256(d)
		h.Write(fp[:])
	}
	var out [fingerprintSize]byte
	h.Sum(out[:0])
	return out
}

// sealNonce returns iv XOR the big-endian counter in its last 8 bytes (the
// TLS 1.3 per-record nonce); the counter is never reused under one key.
func sealNonce(dst, iv []byte, counter uint64) []byte {
	dst = append(dst[:0], iv...)
	n := len(dst)
	var c [8]byte
	binary.BigEndian.PutUint64(c[:], counter)
	for i := range 8 {
		dst[n-8+i] ^= c[i]
	}
	return dst
}
