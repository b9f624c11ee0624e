package transport

import (
	"net"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/snowmerak/clustering/core"
)

// writeBatchSize is how many datagrams one batched write may carry.
const writeBatchSize = 64

// txQueueLen is the depth of the endpoint's queue of sealed KCP records.
const txQueueLen = 1024

// batchSender writes several datagrams per system call (sendmmsg on Linux).
type batchSender interface {
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// txPacket is a sealed record waiting for the batch writer.
type txPacket struct {
	buf  *packetBuf
	n    int
	addr net.Addr
}

// batchWriter gathers the sealed KCP records of every session and writes
// them in batches: bulk transfers cost one system call per batch instead of
// one per packet. Records other than KCP's (handshakes, keepalives,
// datagrams, close) are written directly.
type batchWriter struct {
	e  *Endpoint
	bs batchSender
	q  chan txPacket
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
	return &batchWriter{e: e, bs: bs, q: make(chan txPacket, txQueueLen)}
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
	msgs := make([]ipv4.Message, writeBatchSize)
	vecs := make([][]byte, writeBatchSize) // one-element Buffers for each message, reused
	for i := range msgs {
		msgs[i].Buffers = vecs[i : i+1 : i+1]
	}
	pkts := make([]txPacket, 0, writeBatchSize)
	for {
		select {
		case p := <-w.q:
			pkts = append(pkts[:0], p)
		case <-w.e.closing:
			w.drain()
			return
		}
	more:
		for len(pkts) < writeBatchSize {
			select {
			case p := <-w.q:
				pkts = append(pkts, p)
			default:
				break more
			}
		}
		for i, p := range pkts {
			msgs[i].Buffers[0] = p.buf[:p.n]
			msgs[i].Addr = p.addr
		}
		w.write(msgs[:len(pkts)])
		for i, p := range pkts {
			w.e.putBuf(p.buf)
			msgs[i].Buffers[0], msgs[i].Addr = nil, nil
		}
	}
}

// write sends a batch; a failed datagram is skipped, like a lost one.
func (w *batchWriter) write(ms []ipv4.Message) {
	for len(ms) > 0 {
		n, err := w.bs.WriteBatch(ms, 0)
		if err != nil {
			n = max(n, 1) // skip the datagram the error is about
		}
		for _, m := range ms[:n] {
			if err == nil {
				w.e.stats.packetsOut.Add(1)
				w.e.stats.bytesOut.Add(uint64(len(m.Buffers[0])))
			}
		}
		ms = ms[n:]
	}
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
