package transport

import (
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/snowmerak/clustering/core"
)

// Record layout (PROTOCOL.md §Records):
//
//	type u8 (5) | reserved [3] | receiverIndex u32 | counter u64 | sealed(contentType u8 | payload)
//
// The 16-byte header is the AEAD's associated data and the counter, XORed
// into the direction's IV, is its nonce.
const recordHeaderSize = 16

// contentType is the first plaintext byte of a record.
type contentType uint8

const (
	contentKCP       contentType = 1 // a KCP segment for the session's conversation
	contentDatagram  contentType = 2 // an unreliable application datagram
	contentKeepalive contentType = 3 // nothing; proves liveness and confirms keys
	contentClose     contentType = 4 // the sender closed the session
	// contentPathChallenge carries a random token the peer must echo: it
	// validates an address the peer roamed to (roaming.go).
	contentPathChallenge contentType = 5
	// contentPathResponse echoes a path challenge's token.
	contentPathResponse contentType = 6
)

// maxNonceSize bounds the AEAD nonce sizes we support (XChaCha20 uses 24).
const maxNonceSize = 32

// packetBuf is a pooled datagram buffer. Its last maxNonceSize bytes are
// scratch space for a nonce, so sealing allocates nothing.
type packetBuf [readBufferSize]byte

// maxSealedPayload is the largest payload a record can carry in a packetBuf.
const maxSealedPayload = readBufferSize - maxNonceSize - recordHeaderSize - 1 - 32

var (
	errReplay         = errors.New("replayed or too old record counter")
	errRecordAuth     = errors.New("record failed to authenticate")
	errKeysExhausted  = errors.New("keys used for the maximum number of records")
	errRecordTooLarge = fmt.Errorf("record payload too large: %w", core.ErrInvalidInput)
)

// keypair is one direction pair of traffic keys, made by one handshake and
// found by its local index.
type keypair struct {
	localIndex  uint32
	remoteIndex uint32
	created     time.Time
	// initiator reports whether this side initiated the handshake that made it.
	initiator bool
	// limit is the counter at which the keys are refused (RejectAfterMessages).
	limit uint64

	send      cipher.AEAD
	sendIV    []byte
	sendCount atomic.Uint64

	// recvMu guards the receive side; in practice only the read loop takes it.
	recvMu    sync.Mutex
	recv      cipher.AEAD
	recvIV    []byte
	replay    replayWindow
	recvNonce [maxNonceSize]byte

	// confirmed: the peer is known to hold these keys (responder: always;
	// initiator: once an authenticated record arrived under them).
	confirmed atomic.Bool
	// m3Sum is the hash of the M3 that made these keys (responder only), to
	// answer a retransmitted M3 with a keepalive.
	m3Sum [32]byte

	// hs is the initiator handshake awaiting confirmation of these keys
	// (read loop only once the keypair is published).
	hs *initiatorState

	sess *Session
}

// newKeypair builds the AEADs for k.
func newKeypair(suite aeadSuite, k trafficKeys, local, remote uint32, initiator bool, now time.Time, limit uint64) (*keypair, error) {
	send, err := suite.New(k.sendKey)
	if err != nil {
		return nil, fmt.Errorf("traffic keys: %w", err)
	}
	recv, err := suite.New(k.recvKey)
	if err != nil {
		return nil, fmt.Errorf("traffic keys: %w", err)
	}
	if send.NonceSize() < 8 || send.NonceSize() > maxNonceSize {
		return nil, fmt.Errorf("traffic keys: nonce size %d unsupported: %w", send.NonceSize(), core.ErrInvalidInput)
	}
	kp := &keypair{
		localIndex: local, remoteIndex: remote, created: now, initiator: initiator, limit: limit,
		send: send, sendIV: k.sendIV, recv: recv, recvIV: k.recvIV,
	}
	kp.confirmed.Store(!initiator)
	return kp, nil
}

// aeadSuite is the part of core.AEAD the record layer needs.
type aeadSuite interface {
	New(key []byte) (cipher.AEAD, error)
}

// seal writes a record carrying payload into buf and returns it.
func (kp *keypair) seal(buf *packetBuf, ct contentType, payload []byte) ([]byte, error) {
	if len(payload) > maxSealedPayload {
		return nil, errRecordTooLarge
	}
	counter := kp.sendCount.Add(1) - 1
	if counter >= kp.limit {
		return nil, errKeysExhausted
	}
	b := buf[:]
	b[0], b[1], b[2], b[3] = byte(typeRecord), 0, 0, 0
	binary.BigEndian.PutUint32(b[4:8], kp.remoteIndex)
	binary.BigEndian.PutUint64(b[8:16], counter)
	b[recordHeaderSize] = byte(ct)
	copy(b[recordHeaderSize+1:], payload)
	nonce := sealNonce(b[readBufferSize-maxNonceSize:readBufferSize-maxNonceSize], kp.sendIV, counter)
	return kp.send.Seal(b[:recordHeaderSize], nonce, b[recordHeaderSize:recordHeaderSize+1+len(payload)], b[:recordHeaderSize]), nil
}

// recordIndex returns the receiver index of a record datagram.
func recordIndex(b []byte) (uint32, error) {
	if len(b) < recordHeaderSize+1 || len(b) > maxRecordDatagram {
		return 0, fmt.Errorf("record: %d bytes: %w", len(b), core.ErrInvalidInput)
	}
	if b[1]|b[2]|b[3] != 0 {
		return 0, fmt.Errorf("record: reserved bytes set: %w", core.ErrInvalidInput)
	}
	return binary.BigEndian.Uint32(b[4:8]), nil
}

// open authenticates and decrypts a record in place. A counter seen before
// (or too far behind) is refused before any decryption; the window moves
// only for a record that authenticates. newest reports that the record's
// counter is the highest this keypair has received, which is what may move
// the session to a new address (a genuine but late record must not).
func (kp *keypair) open(b []byte) (ct contentType, payload []byte, newest bool, err error) {
	counter := binary.BigEndian.Uint64(b[8:16])
	if counter >= kp.limit {
		return 0, nil, false, errKeysExhausted
	}
	kp.recvMu.Lock()
	defer kp.recvMu.Unlock()
	if kp.replay.seen(counter) {
		return 0, nil, false, errReplay
	}
	nonce := sealNonce(kp.recvNonce[:0], kp.recvIV, counter)
	pt, err := kp.recv.Open(b[recordHeaderSize:recordHeaderSize], nonce, b[recordHeaderSize:], b[:recordHeaderSize])
	if err != nil {
		return 0, nil, false, errRecordAuth
	}
	if len(pt) < 1 {
		return 0, nil, false, errRecordAuth
	}
	// seen refused counter == last once last was accepted, so >= is "newer
	// than everything accepted" (and true for the very first record).
	newest = counter >= kp.replay.last
	if !kp.replay.accept(counter) {
		return 0, nil, false, errReplay
	}
	return contentType(pt[0]), pt[1:], newest, nil
}
