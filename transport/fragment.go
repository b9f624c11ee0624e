package transport

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/snowmerak/clustering/core"
)

// Fragment header (10 bytes), in front of every handshake datagram:
//
//	type u8 | fragIndex u8 | fragCount u8 | reserved u8 (0) | index u32 | total u16
//
// index routes the message: M1 carries the initiator's index, M2 the
// initiator's (its receiver) and M3 the responder's (its receiver).
const (
	fragmentHeaderSize = 10
	// fragmentPayload is the message bytes every fragment but the last carries.
	fragmentPayload = maxDatagram - fragmentHeaderSize
)

// fragment is one parsed handshake datagram.
type fragment struct {
	typ   packetType
	idx   int
	count int
	index uint32
	total int
	data  []byte // aliases the datagram
}

// maxMessageFor returns the size and fragment bounds for a message type.
func maxMessageFor(t packetType) (size, frags int) {
	if t == typeM1 {
		return maxM1Size, maxM1Fragments
	}
	return maxHandshakeMessage, maxHandshakeFragments
}

// parseFragment checks a handshake datagram strictly: the header must be
// consistent with a message of its type, and the fragment must have exactly
// the length its position implies.
func parseFragment(b []byte) (fragment, error) {
	var f fragment
	if len(b) > maxDatagram {
		return f, fmt.Errorf("fragment: %d bytes exceed %d: %w", len(b), maxDatagram, core.ErrInvalidInput)
	}
	if len(b) < fragmentHeaderSize {
		return f, fmt.Errorf("fragment: %d bytes, header needs %d: %w", len(b), fragmentHeaderSize, core.ErrInvalidInput)
	}
	f.typ = packetType(b[0])
	if f.typ != typeM1 && f.typ != typeM2 && f.typ != typeM3 {
		return f, fmt.Errorf("fragment: type %d is not a handshake message: %w", b[0], core.ErrInvalidInput)
	}
	f.idx, f.count = int(b[1]), int(b[2])
	if b[3] != 0 {
		return f, fmt.Errorf("fragment: reserved byte %#x: %w", b[3], core.ErrInvalidInput)
	}
	f.index = binary.BigEndian.Uint32(b[4:8])
	f.total = int(binary.BigEndian.Uint16(b[8:10]))
	maxSize, maxFrags := maxMessageFor(f.typ)
	switch {
	case f.total == 0 || f.total > maxSize:
		return f, fmt.Errorf("fragment: message of %d bytes (max %d): %w", f.total, maxSize, core.ErrInvalidInput)
	case f.count != fragmentCount(f.total) || f.count > maxFrags:
		return f, fmt.Errorf("fragment: count %d for %d bytes: %w", f.count, f.total, core.ErrInvalidInput)
	case f.idx >= f.count:
		return f, fmt.Errorf("fragment: index %d of %d: %w", f.idx, f.count, core.ErrInvalidInput)
	}
	f.data = b[fragmentHeaderSize:]
	if want := fragmentLen(f.total, f.idx); len(f.data) != want {
		return f, fmt.Errorf("fragment %d/%d: %d bytes, want %d: %w", f.idx, f.count, len(f.data), want, core.ErrInvalidInput)
	}
	return f, nil
}

// fragmentCount is the number of fragments a message of total bytes needs.
func fragmentCount(total int) int { return (total + fragmentPayload - 1) / fragmentPayload }

// fragmentLen is the length of fragment idx of a message of total bytes.
func fragmentLen(total, idx int) int {
	if rest := total - idx*fragmentPayload; rest < fragmentPayload {
		return rest
	}
	return fragmentPayload
}

// fragmentMessage splits msg into datagrams of at most maxDatagram bytes.
func fragmentMessage(t packetType, index uint32, msg []byte) [][]byte {
	n := fragmentCount(len(msg))
	out := make([][]byte, n)
	for i := range n {
		part := msg[i*fragmentPayload : i*fragmentPayload+fragmentLen(len(msg), i)]
		d := make([]byte, fragmentHeaderSize+len(part))
		d[0], d[1], d[2] = byte(t), byte(i), byte(n)
		binary.BigEndian.PutUint32(d[4:8], index)
		binary.BigEndian.PutUint16(d[8:10], uint16(len(msg)))
		copy(d[fragmentHeaderSize:], part)
		out[i] = d
	}
	return out
}

// reassembly collects the fragments of one message. Its buffer is sized by
// the first fragment's total (bounded by parseFragment), and every later
// fragment must agree with it.
type reassembly struct {
	typ     packetType
	total   int
	count   int
	have    uint64 // bitmap of received fragments (count ≤ 64)
	got     int
	buf     []byte
	started time.Time
	bytesIn int // datagram bytes received, for anti-amplification
}

func newReassembly(f fragment, now time.Time) *reassembly {
	return &reassembly{typ: f.typ, total: f.total, count: f.count, buf: make([]byte, f.total), started: now}
}

// add stores f and reports the complete message once every fragment is in.
// A fragment inconsistent with the first one is an error: the caller drops
// the whole reassembly. A duplicate fragment is ignored.
func (r *reassembly) add(f fragment, datagramLen int) ([]byte, error) {
	if f.typ != r.typ || f.total != r.total || f.count != r.count {
		return nil, fmt.Errorf("fragment %d/%d: disagrees with the message's first fragment: %w", f.idx, f.count, core.ErrInvalidInput)
	}
	r.bytesIn += datagramLen
	bit := uint64(1) << uint(f.idx)
	if r.have&bit != 0 {
		return nil, nil
	}
	r.have |= bit
	r.got++
	copy(r.buf[f.idx*fragmentPayload:], f.data)
	if r.got < r.count {
		return nil, nil
	}
	return r.buf, nil
}

// size is the memory the reassembly holds.
func (r *reassembly) size() int { return len(r.buf) }
