package swim

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/snowmerak/clustering/core"
)

// Message wire format (version 1), every integer big-endian. Every message
// starts with the protocol version (u8 = 1) and its type (u8).
//
// Datagrams (SendDatagram; each at most Config.MaxDatagramSize bytes):
//
//	ping     1  seq u32                      "are you alive?"
//	ack      2  seq u32                      answer to a ping (or relayed answer)
//	ping-req 3  seq u32, flags u8 (1 = send a nack), target [32], address
//	            (u8 length 0/6/18, IP, port u16)  "probe target for me"
//	nack     4  seq u32                      "I could not reach the target"
//	gossip   5  (no body)
//
// then, in every datagram, the sender's self-notice: the kind (alive or
// leave), incarnation u64 and digest [8] of its own current record — the
// transport authenticates the sender, so this tells every peer it talks to
// what it currently announces — then two lists of piggybacked notices, each a count u8
// then count × (subject [32], kind u8, incarnation u64, digest [8]) — 49
// bytes a notice: fresh notices (gossip of changes the sender just applied),
// then repair notices (corrections and reminders, see repair.go). A notice
// says "I hold this record"; it is not signed and is never applied: a
// receiver that wants the record pulls it and verifies it.
//
// Requests (Request) and their replies:
//
//	pull      16  count u16, count × (subject [32], digest [8], flags u8
//	              (1 = also send the subject's alive record))
//	push-pull 17  flags u8 (1 = joining), count u32, count × notice: the
//	              sender's summary of every record it holds
//	push      18  count u16, count × (length u32, record)
//	reply     32  count u32, count × (length u32, record)
//
// A pull is answered with the records asked for; a push-pull with the
// responder's records the sender lacks (the responder then pulls what it
// lacks); a push with an empty reply.

const protocolVersion = 1

// msgType is a message's type byte.
type msgType uint8

const (
	msgPing     msgType = 1
	msgAck      msgType = 2
	msgPingReq  msgType = 3
	msgNack     msgType = 4
	msgGossip   msgType = 5
	reqPull     msgType = 16
	reqPushPull msgType = 17
	reqPush     msgType = 18
	msgReply    msgType = 32
)

// Wire sizes and limits.
const (
	noticeSize     = core.NodeIDSize + 1 + 8 + 8
	selfNoticeSize = 1 + 8 + 8
	pullEntrySize  = core.NodeIDSize + 8 + 1
	// maxNotices bounds the notices one datagram carries (a u8 count).
	maxNotices = 255
	// minDatagramSize fits the largest datagram header and one notice.
	minDatagramSize = 128
	// maxRecordSize bounds one encoded record.
	maxRecordSize = 64 << 10
	// maxPulls bounds the entries of one pull.
	maxPulls = 1024
	// maxPushRecords bounds the records of one push.
	maxPushRecords = 64
	// maxListed bounds the notices of a summary and the records of a reply.
	maxListed = 1 << 20
)

// notice advertises a record by its subject, kind, incarnation and digest.
type notice struct {
	subject core.NodeID
	kind    kind
	inc     uint64
	digest  digest
}

func (n notice) key() key { return key{n.inc, n.kind.rank()} }

func appendNotice(b []byte, n notice) []byte {
	b = append(b, n.subject[:]...)
	b = append(b, byte(n.kind))
	b = binary.BigEndian.AppendUint64(b, n.inc)
	return append(b, n.digest[:]...)
}

func readNotice(r *reader) notice {
	var n notice
	n.subject = r.nodeID("notice subject")
	n.kind = kind(r.u8("notice kind"))
	n.inc = r.u64("notice incarnation")
	copy(n.digest[:], r.take(8, "notice digest"))
	if r.err == nil && !n.kind.valid() {
		r.fail("notice: unknown kind %d", n.kind)
	}
	return n
}

// datagram is a decoded ping, ack, ping-req, nack or gossip message.
type datagram struct {
	typ      msgType
	seq      uint32
	target   core.NodeID    // ping-req
	addr     netip.AddrPort // ping-req
	wantNack bool           // ping-req
	self     notice         // the sender's own current record (subject unset on the wire)
	notices  []notice       // fresh gossip
	repairs  []notice       // corrections and reminders
}

// headerSize is the encoded size of d without its notices (counts included).
func (d *datagram) headerSize() int {
	const tail = selfNoticeSize + 2 // self-notice and the two list counts
	switch d.typ {
	case msgGossip:
		return 2 + tail
	case msgPingReq:
		return 2 + 4 + 1 + core.NodeIDSize + 1 + 18 + tail
	}
	return 2 + 4 + tail
}

func appendDatagram(b []byte, d *datagram) []byte {
	b = append(b, protocolVersion, byte(d.typ))
	switch d.typ {
	case msgPing, msgAck, msgNack:
		b = binary.BigEndian.AppendUint32(b, d.seq)
	case msgPingReq:
		b = binary.BigEndian.AppendUint32(b, d.seq)
		var flags byte
		if d.wantNack {
			flags = 1
		}
		b = append(b, flags)
		b = append(b, d.target[:]...)
		b = appendAddrPort(b, d.addr)
	}
	b = append(b, byte(d.self.kind))
	b = binary.BigEndian.AppendUint64(b, d.self.inc)
	b = append(b, d.self.digest[:]...)
	for _, list := range [][]notice{d.notices, d.repairs} {
		b = append(b, byte(len(list)))
		for _, n := range list {
			b = appendNotice(b, n)
		}
	}
	return b
}

// decodeDatagram parses a datagram from untrusted bytes.
func decodeDatagram(b []byte) (*datagram, error) {
	r := &reader{b: b}
	if v := r.u8("datagram version"); r.err == nil && v != protocolVersion {
		return nil, fmt.Errorf("datagram: version %d: %w", v, core.ErrInvalidInput)
	}
	d := &datagram{typ: msgType(r.u8("datagram type"))}
	switch d.typ {
	case msgPing, msgAck, msgNack:
		d.seq = r.u32("datagram seq")
	case msgPingReq:
		d.seq = r.u32("ping-req seq")
		flags := r.u8("ping-req flags")
		if flags&^1 != 0 {
			r.fail("ping-req: unknown flags %#x", flags)
		}
		d.wantNack = flags&1 != 0
		d.target = r.nodeID("ping-req target")
		d.addr = r.addrPort("ping-req address")
	case msgGossip:
	default:
		if r.err == nil {
			return nil, fmt.Errorf("datagram: unknown type %d: %w", d.typ, core.ErrInvalidInput)
		}
	}
	d.self.kind = kind(r.u8("self-notice kind"))
	d.self.inc = r.u64("self-notice incarnation")
	copy(d.self.digest[:], r.take(8, "self-notice digest"))
	if r.err == nil && d.self.kind != kindAlive && d.self.kind != kindLeave {
		r.fail("datagram: self-notice of kind %d", d.self.kind)
	}
	d.notices = readNotices(r)
	d.repairs = readNotices(r)
	if err := r.done("datagram"); err != nil {
		return nil, fmt.Errorf("datagram: %w", err)
	}
	return d, nil
}

// readNotices reads a u8 count and that many notices.
func readNotices(r *reader) []notice {
	n := int(r.u8("notice count"))
	if r.err != nil || n == 0 {
		return nil
	}
	if n*noticeSize > len(r.b) {
		r.fail("datagram: %d notices need %d bytes, have %d", n, n*noticeSize, len(r.b))
		return nil
	}
	out := make([]notice, n)
	for i := range out {
		out[i] = readNotice(r)
	}
	return out
}

// pullEntry asks for one record by subject and digest.
type pullEntry struct {
	subject   core.NodeID
	digest    digest
	needAlive bool
}

// request is a decoded pull, push-pull or push.
type request struct {
	typ     msgType
	pulls   []pullEntry // pull
	join    bool        // push-pull
	summary []notice    // push-pull
	records []*record   // push
}

func appendRequest(b []byte, q *request) []byte {
	b = append(b, protocolVersion, byte(q.typ))
	switch q.typ {
	case reqPull:
		b = binary.BigEndian.AppendUint16(b, uint16(len(q.pulls)))
		for _, p := range q.pulls {
			b = append(b, p.subject[:]...)
			b = append(b, p.digest[:]...)
			var flags byte
			if p.needAlive {
				flags = 1
			}
			b = append(b, flags)
		}
	case reqPushPull:
		var flags byte
		if q.join {
			flags = 1
		}
		b = append(b, flags)
		b = binary.BigEndian.AppendUint32(b, uint32(len(q.summary)))
		for _, n := range q.summary {
			b = appendNotice(b, n)
		}
	case reqPush:
		b = binary.BigEndian.AppendUint16(b, uint16(len(q.records)))
		b = appendRecords(b, q.records)
	}
	return b
}

// decodeRequest parses a request from untrusted bytes; records are checked
// for structure, not signatures.
func decodeRequest(b []byte) (*request, error) {
	r := &reader{b: b}
	if v := r.u8("request version"); r.err == nil && v != protocolVersion {
		return nil, fmt.Errorf("request: version %d: %w", v, core.ErrInvalidInput)
	}
	q := &request{typ: msgType(r.u8("request type"))}
	switch q.typ {
	case reqPull:
		n := r.count("pull count", pullEntrySize, maxPulls)
		q.pulls = make([]pullEntry, n)
		for i := range q.pulls {
			p := &q.pulls[i]
			p.subject = r.nodeID("pull subject")
			copy(p.digest[:], r.take(8, "pull digest"))
			flags := r.u8("pull flags")
			if flags&^1 != 0 {
				r.fail("pull: unknown flags %#x", flags)
			}
			p.needAlive = flags&1 != 0
		}
	case reqPushPull:
		flags := r.u8("push-pull flags")
		if flags&^1 != 0 {
			r.fail("push-pull: unknown flags %#x", flags)
		}
		q.join = flags&1 != 0
		n := r.count32("summary count", noticeSize, maxListed)
		q.summary = make([]notice, n)
		for i := range q.summary {
			q.summary[i] = readNotice(r)
		}
	case reqPush:
		q.records = readRecords(r, r.count("push count", 4+minRecordSize, maxPushRecords))
	default:
		if r.err == nil {
			return nil, fmt.Errorf("request: unknown type %d: %w", q.typ, core.ErrInvalidInput)
		}
	}
	if err := r.done("request"); err != nil {
		return nil, fmt.Errorf("request: %w", err)
	}
	return q, nil
}

func appendReply(b []byte, recs []*record) []byte {
	b = append(b, protocolVersion, byte(msgReply))
	b = binary.BigEndian.AppendUint32(b, uint32(len(recs)))
	return appendRecords(b, recs)
}

// decodeReply parses a reply from untrusted bytes.
func decodeReply(b []byte) ([]*record, error) {
	r := &reader{b: b}
	if v := r.u8("reply version"); r.err == nil && v != protocolVersion {
		return nil, fmt.Errorf("reply: version %d: %w", v, core.ErrInvalidInput)
	}
	if t := msgType(r.u8("reply type")); r.err == nil && t != msgReply {
		return nil, fmt.Errorf("reply: type %d: %w", t, core.ErrInvalidInput)
	}
	recs := readRecords(r, r.count32("reply count", 4+minRecordSize, maxListed))
	if err := r.done("reply"); err != nil {
		return nil, fmt.Errorf("reply: %w", err)
	}
	return recs, nil
}

func appendRecords(b []byte, recs []*record) []byte {
	for _, rec := range recs {
		b = binary.BigEndian.AppendUint32(b, uint32(len(rec.raw)))
		b = append(b, rec.raw...)
	}
	return b
}

func readRecords(r *reader, n int) []*record {
	recs := make([]*record, 0, n)
	for range n {
		size := r.u32("record length")
		if size > maxRecordSize {
			r.fail("record of %d bytes exceeds %d", size, maxRecordSize)
		}
		raw := r.take(int(size), "record")
		if r.err != nil {
			return nil
		}
		rec, err := decodeRecord(raw)
		if err != nil {
			r.fail("record %d: %v", len(recs), err)
			return nil
		}
		recs = append(recs, rec)
	}
	return recs
}
