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

// batchReader reads several datagrams per system call (recvmmsg on Linux).
type batchReader interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
}

// newBatchReader returns a batch reader for a real UDP socket, or nil for
// any other PacketConn (which is then read one datagram at a time).
func newBatchReader(conn core.PacketConn) batchReader {
	uc, ok := conn.(*net.UDPConn)
	if !ok {
		return nil
	}
	if a, ok := uc.LocalAddr().(*net.UDPAddr); ok && a.IP.To4() != nil {
		return ipv4.NewPacketConn(uc)
	}
	return ipv6.NewPacketConn(uc)
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
			e.stats.packetsIn.Add(1)
			e.stats.bytesIn.Add(uint64(m.N))
			ap, err := addrPortOf(m.Addr)
			if err != nil || m.N == 0 {
				e.stats.malformed.Add(1)
				continue
			}
			if e.handlePacket(bufs[i], m.N, ap, m.Addr) {
				bufs[i] = e.getBuf() // the session kept the buffer
				m.Buffers[0] = bufs[i][:]
			}
		}
	}
}
