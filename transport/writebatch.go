package transport

import (
	"net"
	"net/netip"
	"sync/atomic"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/snowmerak/clustering/core"
)

// writeBatchSize is how many datagrams one batched write may carry.
const writeBatchSize = 128

// txQueueLen is the depth of the endpoint's queue of sealed KCP records.
const txQueueLen = 1024

// GSO limits: Linux takes at most 64 segments per send (UDP_MAX_SEGMENTS)
// and at most a 64 KiB UDP payload.
const (
	maxGSOSegments = 64
	maxGSOBytes    = 65000
)

// batchSender writes several datagrams per system call (sendmmsg on Linux).
type batchSender interface {
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// txPacket is a sealed record waiting for the batch writer.
type txPacket struct {
	buf  *packetBuf
	n    int
	ap   netip.AddrPort
	addr net.Addr
}

// batchWriter gathers the sealed KCP records of every session and writes
// them in batches: bulk transfers cost one system call per batch instead of
// one per packet. Where the kernel offers UDP GSO, each run of equal-sized
// records to one address goes down as one GSO message, which the stack
// carries as one packet until it cuts it into the same datagrams. Records
// other than KCP's (handshakes, keepalives, datagrams, close) are written
// directly.
type batchWriter struct {
	e   *Endpoint
	bs  batchSender
	q   chan txPacket
	gso atomic.Bool // cleared for good when a GSO send fails
}

// newBatchWriter returns a batch writer for a real UDP socket, or nil.
func newBatchWriter(e *Endpoint, conn core.PacketConn) *batchWriter {
	uc, ok := conn.(*net.UDPConn)
	if !ok {
		return nil
	}
	var bs batchSender = ipv6.NewPacketConn(uc)
	if a, ok := uc.LocalAddr().(*net.UDPAddr); ok && a.IP.To4() != nil {
		bs = ipv4.NewPacketConn(uc)
	}
	w := &batchWriter{e: e, bs: bs, q: make(chan txPacket, txQueueLen)}
	w.gso.Store(enableGSO(uc))
	return w
}

// enqueue hands a sealed record to the writer; it waits while the queue is
// full (backpressure on KCP) and drops the record once the endpoint closes.
func (w *batchWriter) enqueue(p txPacket) {
	select {
	case w.q <- p:
	case <-w.e.closing:
		w.e.putBuf(p.buf)
	}
}

// loop writes queued records: it takes what is queued, up to a batch, and
// never waits for more, so a lone packet goes out at once.
func (w *batchWriter) loop() {
	defer w.e.wg.Done()
	var b txBatch
	for {
		select {
		case p := <-w.q:
			b.pkts = append(b.pkts[:0], p)
		case <-w.e.closing:
			w.drain()
			return
		}
	more:
		for len(b.pkts) < writeBatchSize {
			select {
			case p := <-w.q:
				b.pkts = append(b.pkts, p)
			default:
				break more
			}
		}
		w.write(&b)
		for i, p := range b.pkts {
			w.e.putBuf(p.buf)
			b.pkts[i] = txPacket{}
		}
	}
}

// txBatch is the writer's reusable scratch space.
type txBatch struct {
	pkts []txPacket
	vecs [][]byte
	msgs []ipv4.Message
	oob  [writeBatchSize][gsoControlSize]byte
}

// build lays the packets out as messages: with gso, each run of records to
// one address whose sizes are equal (the last may be shorter) is one
// message; otherwise one message per record.
func (b *txBatch) build(gso bool) []ipv4.Message {
	b.vecs = b.vecs[:0]
	for _, p := range b.pkts {
		b.vecs = append(b.vecs, p.buf[:p.n])
	}
	b.msgs = b.msgs[:0]
	for i := 0; i < len(b.pkts); {
		j := i + 1
		if gso {
			size := b.pkts[i].n
			for j < len(b.pkts) && j-i < maxGSOSegments && (j-i+1)*size <= maxGSOBytes &&
				b.pkts[j].ap == b.pkts[i].ap && b.pkts[j].n <= size {
				j++
				if b.pkts[j-1].n < size {
					break // a shorter record ends the run
				}
			}
		}
		m := ipv4.Message{Buffers: b.vecs[i:j:j], Addr: b.pkts[i].addr}
		if j-i > 1 {
			m.OOB = putGSOControl(b.oob[len(b.msgs)][:], b.pkts[i].n)
		}
		b.msgs = append(b.msgs, m)
		i = j
	}
	return b.msgs
}

// write sends a batch; a failed datagram is skipped, like a lost one. A GSO
// send the path cannot take turns GSO off, and what was not sent yet goes
// again one datagram per message.
func (w *batchWriter) write(b *txBatch) {
	gso := w.gso.Load()
	ms := b.build(gso)
	for len(ms) > 0 {
		n, err := w.bs.WriteBatch(ms, 0)
		if err != nil && gso && isGSOError(err) {
			gso = false
			w.gso.Store(false)
			w.e.cfg.Logger.Info("transport: UDP GSO unavailable on this path; sending datagrams one by one", "err", err)
			ms = splitMessages(ms[n:])
			continue
		}
		if err != nil {
			n = max(n, 1) // skip the datagram the error is about
		}
		for _, m := range ms[:n] {
			if err == nil {
				for _, v := range m.Buffers {
					w.e.stats.packetsOut.Add(1)
					w.e.stats.bytesOut.Add(uint64(len(v)))
				}
			}
		}
		ms = ms[n:]
	}
}

// splitMessages turns GSO messages into one message per datagram.
func splitMessages(ms []ipv4.Message) []ipv4.Message {
	var out []ipv4.Message
	for _, m := range ms {
		for i := range m.Buffers {
			out = append(out, ipv4.Message{Buffers: m.Buffers[i : i+1 : i+1], Addr: m.Addr})
		}
	}
	return out
}

// drain frees the buffers of records that will not be sent.
func (w *batchWriter) drain() {
	for {
		select {
		case p := <-w.q:
			w.e.putBuf(p.buf)
		default:
			return
		}
	}
}
