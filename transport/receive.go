package transport

import (
	"errors"
	"net"
	"net/netip"
)

// readLoop is the endpoint's only reader of the socket. Every datagram is
// classified by its first byte and handled with cheap checks here; records
// are decrypted here too, and complete handshake messages go to the
// workers. Nothing starts a goroutine per packet.
func (e *Endpoint) readLoop() {
	defer e.wg.Done()
	for {
		buf := e.getBuf()
		n, from, err := e.conn.ReadFrom(buf[:])
		if err != nil {
			e.putBuf(buf)
			if e.isClosed() || errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			e.cfg.Logger.Warn("transport: socket read", "err", err)
			continue
		}
		e.stats.packetsIn.Add(1)
		e.stats.bytesIn.Add(uint64(n))
		ap, err := addrPortOf(from)
		if err != nil || n == 0 {
			e.stats.malformed.Add(1)
			e.putBuf(buf)
			continue
		}
		if !e.handlePacket(buf, n, ap, from) {
			e.putBuf(buf)
		}
	}
}

// handlePacket dispatches one datagram and reports whether it kept buf.
func (e *Endpoint) handlePacket(buf *packetBuf, n int, from netip.AddrPort, fromAddr net.Addr) bool {
	b := buf[:n]
	switch packetType(b[0]) {
	case typeRecord:
		return e.handleRecord(buf, b, from, fromAddr)
	case typeM1, typeM2, typeM3:
		e.handleFragment(b, from, fromAddr)
	case typeCookieReply:
		e.handleCookieReply(b)
	case typeReject:
		e.handleReject(b)
	default:
		e.stats.malformed.Add(1)
	}
	return false
}

// handleRecord authenticates a record and hands its content to its session.
func (e *Endpoint) handleRecord(buf *packetBuf, b []byte, from netip.AddrPort, fromAddr net.Addr) bool {
	idx, err := recordIndex(b)
	if err != nil {
		e.stats.malformed.Add(1)
		return false
	}
	entry, ok := e.index.get(idx)
	if !ok || entry.kp == nil {
		e.stats.unknownIndex.Add(1)
		return false
	}
	kp := entry.kp
	now := e.now()
	if now.Sub(kp.created) >= e.cfg.RejectAfter {
		e.stats.expiredKeyDrops.Add(1)
		return false
	}
	ct, payload, newest, err := kp.open(b)
	switch {
	case errors.Is(err, errReplay):
		e.stats.replayDrops.Add(1)
		return false
	case err != nil:
		e.stats.authFailures.Add(1)
		return false
	}
	if !kp.confirmed.Load() {
		kp.confirmed.Store(true)
		if !e.confirmInitiator(kp) {
			return false // the handshake lost a race; its keys are gone
		}
	}
	s := kp.sess
	s.lastRecv.Store(now.UnixNano())
	s.arrived(from, fromAddr, len(b), newest)
	switch ct {
	case contentKCP:
		return s.vconn.deliver(buf, payload)
	case contentDatagram:
		s.deliverDatagram(payload)
	case contentKeepalive:
	case contentPathChallenge:
		s.onPathChallenge(payload)
	case contentPathResponse:
		s.onPathResponse(payload)
	case contentClose:
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			s.closeWith(ErrPeerClosed, false)
		}()
	default:
		e.stats.malformed.Add(1)
	}
	return false
}

// handleFragment reassembles handshake messages and queues complete ones.
func (e *Endpoint) handleFragment(b []byte, from netip.AddrPort, fromAddr net.Addr) {
	f, err := parseFragment(b)
	if err != nil {
		e.stats.malformed.Add(1)
		return
	}
	switch f.typ {
	case typeM1:
		msg, bytesIn, evicted := e.m1s.add(e.now(), f, from, len(b))
		e.stats.reassemblyDrops.Add(uint64(evicted))
		if msg != nil {
			e.handleM1(msg, f.index, bytesIn, from, fromAddr)
		}
	case typeM2:
		entry, ok := e.index.get(f.index)
		if !ok || entry.init == nil {
			e.stats.unknownIndex.Add(1)
			return
		}
		entry.init.addM2Fragment(f, len(b))
	case typeM3:
		entry, ok := e.index.get(f.index)
		switch {
		case ok && entry.resp != nil:
			entry.resp.addM3Fragment(f, len(b))
		case ok && entry.kp != nil:
			e.answerDuplicateM3(entry.kp, f, len(b), fromAddr)
		default:
			e.stats.unknownIndex.Add(1)
		}
	}
}

// enqueue hands a handshake job to the workers, or reports a full queue.
func (e *Endpoint) enqueue(j hsJob) bool {
	select {
	case e.jobs <- j:
		return true
	default:
		e.stats.queueDrops.Add(1)
		return false
	}
}

// hsJob is a complete handshake message for a worker.
type hsJob struct {
	init *initiatorState
	resp *responderState
	msg  []byte
}

// worker runs the expensive handshake steps: KEM, signatures, chain checks.
func (e *Endpoint) worker() {
	defer e.wg.Done()
	for {
		select {
		case j := <-e.jobs:
			switch {
			case j.init != nil:
				j.init.processM2(j.msg)
			case j.resp != nil && j.msg == nil:
				j.resp.processM1()
			case j.resp != nil:
				j.resp.processM3(j.msg)
			}
		case <-e.closing:
			return
		}
	}
}
