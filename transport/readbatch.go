package transport

import (
	"errors"
	"net"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/snowmerak/clustering/core"
)

// readBatchSize is how many datagrams one batched read may return.
const readBatchSize = 32

// GRO reads: how many coalesced buffers one batched read may fill, and their
// size (the largest UDP payload).
const (
	groBatchSize  = 8
	groBufferSize = 65535
)

// batchReader reads several datagrams per system call (recvmmsg on Linux).
type batchReader interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
}

// newBatchReader returns a batch reader for a real UDP socket and whether
// UDP GRO is on for it, or nil for any other PacketConn (which is then read
// one datagram at a time).
func newBatchReader(conn core.PacketConn) (batchReader, bool) {
	uc, ok := conn.(*net.UDPConn)
	if !ok {
		return nil, false
	}
	gro := enableGRO(uc)
	if a, ok := uc.LocalAddr().(*net.UDPAddr); ok && a.IP.To4() != nil {
		return ipv4.NewPacketConn(uc), gro
	}
	return ipv6.NewPacketConn(uc), gro
}

// readBatchLoop is readLoop for sockets that support batched reads: under
// load one system call brings in up to readBatchSize datagrams.
func (e *Endpoint) readBatchLoop(br batchReader) {
	defer e.wg.Done()
	bufs := make([]*packetBuf, readBatchSize)
	msgs := make([]ipv4.Message, readBatchSize)
	for i := range msgs {
		bufs[i] = e.getBuf()
		msgs[i].Buffers = [][]byte{bufs[i][:]}
	}
	defer func() {
		for _, b := range bufs {
			e.putBuf(b)
		}
	}()
	for {
		n, err := br.ReadBatch(msgs, 0)
		if err != nil {
			if e.isClosed() || errors.Is(err, net.ErrClosed) {
				return
			}
			e.cfg.Logger.Warn("transport: socket read", "err", err)
			continue
		}
		for i := range n {
			m := &msgs[i]
			if e.handleDatagram(bufs[i], m.N, m.Addr) {
				bufs[i] = e.getBuf() // the session kept the buffer
				m.Buffers[0] = bufs[i][:]
			}
		}
	}
}

// readGROLoop is readBatchLoop for a socket with UDP GRO on: each message
// may hold a run of equal-sized datagrams from one source, which it cuts
// apart (by the size the kernel reports) and handles one by one, exactly
// as if they had been read one by one.
func (e *Endpoint) readGROLoop(br batchReader) {
	defer e.wg.Done()
	msgs := make([]ipv4.Message, groBatchSize)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{make([]byte, groBufferSize)}
		msgs[i].OOB = make([]byte, groControlSize)
	}
	buf := e.getBuf()
	defer func() { e.putBuf(buf) }()
	for {
		n, err := br.ReadBatch(msgs, 0)
		if err != nil {
			if e.isClosed() || errors.Is(err, net.ErrClosed) {
				return
			}
			e.cfg.Logger.Warn("transport: socket read", "err", err)
			continue
		}
		for i := range n {
			m := &msgs[i]
			rest, size := m.Buffers[0][:m.N], groSegmentSize(m.OOB[:m.NN])
			for first := true; first || len(rest) > 0; first = false {
				var d []byte
				d, rest = nextSegment(rest, size)
				if len(d) > len(buf) {
					// Larger than any datagram we accept: seen whole, so
					// counted and dropped as oversized, never truncated.
					e.stats.packetsIn.Add(1)
					e.stats.bytesIn.Add(uint64(len(d)))
					e.stats.malformed.Add(1)
					continue
				}
				copy(buf[:], d)
				if e.handleDatagram(buf, len(d), m.Addr) {
					buf = e.getBuf() // the session kept the buffer
				}
			}
		}
	}
}

// nextSegment returns the first datagram of a GRO read b whose datagrams
// are size bytes (the last may be shorter; size 0 means b is one datagram)
// and the rest of b.
func nextSegment(b []byte, size int) (d, rest []byte) {
	if size <= 0 || size >= len(b) {
		return b, nil
	}
	return b[:size], b[size:]
}

// handleDatagram counts and dispatches one datagram read into buf, and
// reports whether a session kept buf.
func (e *Endpoint) handleDatagram(buf *packetBuf, n int, from net.Addr) bool {
	e.stats.packetsIn.Add(1)
	e.stats.bytesIn.Add(uint64(n))
	ap, err := addrPortOf(from)
	if err != nil || n == 0 {
		e.stats.malformed.Add(1)
		return false
	}
	return e.handlePacket(buf, n, ap, from)
}
