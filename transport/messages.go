package transport

import (
	"encoding/binary"
	"fmt"

	"github.com/snowmerak/clustering/core"
)

// packetType is the first byte of every datagram.
type packetType uint8

const (
	typeM1          packetType = 1 // handshake initiation (fragmented)
	typeM2          packetType = 2 // handshake response (fragmented)
	typeM3          packetType = 3 // handshake finish (fragmented)
	typeCookieReply packetType = 4 // stateless cookie reply to an M1
	typeRecord      packetType = 5 // AEAD record of an established session
	typeReject      packetType = 6 // responder's authenticated refusal of an M3
)

// m1 is the handshake initiation. Its encoding is
//
//	version u8 | suite u32 | initIndex u32 | Ni [32] | hint [32] |
//	epkLen u16 | epk | cookieLen u8 | cookie | padLen u16 | zeros
//
// and the initiator pads it so that its last fragment is full.
type m1 struct {
	version   uint8
	suite     uint32
	initIndex uint32
	nonce     [nonceSize]byte
	hint      [hintSize]byte
	epk       []byte
	cookie    []byte
}

const m1FixedSize = 1 + 4 + 4 + nonceSize + hintSize + 2 + 1 + 2

// marshal encodes m padded so that it fills whole fragments.
func (m *m1) marshal() []byte {
	unpadded := m1FixedSize + len(m.epk) + len(m.cookie)
	total := fragmentCount(unpadded) * fragmentPayload
	b := make([]byte, 0, total)
	b = append(b, m.version)
	b = binary.BigEndian.AppendUint32(b, m.suite)
	b = binary.BigEndian.AppendUint32(b, m.initIndex)
	b = append(b, m.nonce[:]...)
	b = append(b, m.hint[:]...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.epk)))
	b = append(b, m.epk...)
	b = append(b, byte(len(m.cookie)))
	b = append(b, m.cookie...)
	b = binary.BigEndian.AppendUint16(b, uint16(total-unpadded))
	return b[:total] // zero padding
}

// parseM1 decodes an M1; it checks the structure only (the suite, sizes and
// cookie are the responder's business).
func parseM1(b []byte) (*m1, error) {
	r := reader{b: b, what: "m1"}
	m := &m1{}
	m.version = r.u8()
	m.suite = r.u32()
	m.initIndex = r.u32()
	r.copy(m.nonce[:])
	r.copy(m.hint[:])
	m.epk = r.bytes(int(r.u16()))
	m.cookie = r.bytes(int(r.u8()))
	pad := r.bytes(int(r.u16()))
	if err := r.done(); err != nil {
		return nil, err
	}
	if len(m.cookie) != 0 && len(m.cookie) != cookieSize {
		return nil, fmt.Errorf("m1: cookie of %d bytes: %w", len(m.cookie), core.ErrInvalidInput)
	}
	for _, p := range pad {
		if p != 0 {
			return nil, fmt.Errorf("m1: non-zero padding: %w", core.ErrInvalidInput)
		}
	}
	return m, nil
}

// m2Clear is the cleartext head of M2, which is also the associated data of
// its encrypted tail:
//
//	respIndex u32 | initIndex u32 | Nr [32] | ctLen u16 | ct
type m2Clear struct {
	respIndex uint32
	initIndex uint32
	nonce     [nonceSize]byte
	ct        []byte
}

func (m *m2Clear) marshal() []byte {
	b := make([]byte, 0, 4+4+nonceSize+2+len(m.ct))
	b = binary.BigEndian.AppendUint32(b, m.respIndex)
	b = binary.BigEndian.AppendUint32(b, m.initIndex)
	b = append(b, m.nonce[:]...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.ct)))
	return append(b, m.ct...)
}

// parseM2 splits an M2 into its clear head (and its encoding) and the sealed tail.
func parseM2(b []byte) (head *m2Clear, clear, sealed []byte, err error) {
	r := reader{b: b, what: "m2"}
	head = &m2Clear{}
	head.respIndex = r.u32()
	head.initIndex = r.u32()
	r.copy(head.nonce[:])
	head.ct = r.bytes(int(r.u16()))
	if r.err != nil {
		return nil, nil, nil, r.err
	}
	return head, b[:r.off], b[r.off:], nil
}

// m3Clear is the cleartext head of M3 (its associated data):
//
//	respIndex u32 | initIndex u32
type m3Clear struct {
	respIndex uint32
	initIndex uint32
}

const m3ClearSize = 8

func (m *m3Clear) marshal() []byte {
	b := make([]byte, 0, m3ClearSize)
	b = binary.BigEndian.AppendUint32(b, m.respIndex)
	return binary.BigEndian.AppendUint32(b, m.initIndex)
}

func parseM3(b []byte) (head m3Clear, clear, sealed []byte, err error) {
	if len(b) < m3ClearSize {
		return head, nil, nil, fmt.Errorf("m3: %d bytes: %w", len(b), core.ErrInvalidInput)
	}
	head.respIndex = binary.BigEndian.Uint32(b[0:4])
	head.initIndex = binary.BigEndian.Uint32(b[4:8])
	return head, b[:m3ClearSize], b[m3ClearSize:], nil
}

// cookieReply answers an M1 with a cookie (72 bytes, never more than the
// 1200+ bytes of the M1 it answers):
//
//	type u8 | reserved [3] | initIndex u32 | Ni [32] | cookie [16] | reserved [16]
//
// Echoing Ni lets the initiator discard replies from off-path forgers, who
// never saw its M1.
type cookieReply struct {
	initIndex uint32
	nonce     [nonceSize]byte
	cookie    [cookieSize]byte
}

const cookieReplySize = 4 + 4 + nonceSize + cookieSize + 16

func (c *cookieReply) marshal() []byte {
	b := make([]byte, cookieReplySize)
	b[0] = byte(typeCookieReply)
	binary.BigEndian.PutUint32(b[4:8], c.initIndex)
	copy(b[8:], c.nonce[:])
	copy(b[8+nonceSize:], c.cookie[:])
	return b
}

func parseCookieReply(b []byte) (*cookieReply, error) {
	if len(b) != cookieReplySize || packetType(b[0]) != typeCookieReply {
		return nil, fmt.Errorf("cookie reply: %d bytes: %w", len(b), core.ErrInvalidInput)
	}
	for _, x := range b[1:4] {
		if x != 0 {
			return nil, fmt.Errorf("cookie reply: reserved byte set: %w", core.ErrInvalidInput)
		}
	}
	c := &cookieReply{initIndex: binary.BigEndian.Uint32(b[4:8])}
	copy(c.nonce[:], b[8:])
	copy(c.cookie[:], b[8+nonceSize:])
	return c, nil
}

// rejectHeaderSize is the cleartext head of a reject:
//
//	type u8 | reserved [3] | initIndex u32 | sealed(reason u8)
const rejectHeaderSize = 8

func parseRejectHeader(b []byte) (initIndex uint32, head, sealed []byte, err error) {
	if len(b) < rejectHeaderSize+1 || len(b) > 128 || packetType(b[0]) != typeReject {
		return 0, nil, nil, fmt.Errorf("reject: %d bytes: %w", len(b), core.ErrInvalidInput)
	}
	return binary.BigEndian.Uint32(b[4:8]), b[:rejectHeaderSize], b[rejectHeaderSize:], nil
}

// reader decodes big-endian fields; the first error sticks.
type reader struct {
	b    []byte
	off  int
	err  error
	what string
}

func (r *reader) need(n int) bool {
	if r.err != nil {
		return false
	}
	if n < 0 || len(r.b)-r.off < n {
		r.err = fmt.Errorf("%s: truncated at byte %d (need %d more): %w", r.what, r.off, n, core.ErrInvalidInput)
		return false
	}
	return true
}

func (r *reader) u8() uint8 {
	if !r.need(1) {
		return 0
	}
	r.off++
	return r.b[r.off-1]
}

func (r *reader) u16() uint16 {
	if !r.need(2) {
		return 0
	}
	r.off += 2
	return binary.BigEndian.Uint16(r.b[r.off-2:])
}

func (r *reader) u32() uint32 {
	if !r.need(4) {
		return 0
	}
	r.off += 4
	return binary.BigEndian.Uint32(r.b[r.off-4:])
}

func (r *reader) bytes(n int) []byte {
	if !r.need(n) {
		return nil
	}
	r.off += n
	return r.b[r.off-n : r.off : r.off]
}

func (r *reader) copy(dst []byte) { copy(dst, r.bytes(len(dst))) }

// done reports a decoding error or trailing bytes.
func (r *reader) done() error {
	if r.err == nil && r.off != len(r.b) {
		r.err = fmt.Errorf("%s: %d trailing bytes: %w", r.what, len(r.b)-r.off, core.ErrInvalidInput)
	}
	return r.err
}
