package swim

import (
	"context"
	"fmt"

	"github.com/snowmerak/clustering/core"
)

// handler is the core.MessageHandler a Node installs on its Messenger. The
// transport authenticates from: its ID is the sender's verified NodeID.
type handler struct{ n *Node }

// HandleDatagram processes a ping, ack, ping-req, nack or gossip datagram and
// the notices it carries.
func (h handler) HandleDatagram(from core.Peer, payload []byte) {
	n := h.n
	d, err := decodeDatagram(payload)
	if err != nil {
		n.run(func(*outbox) { n.stats.BadMessages++ })
		n.log.Debug("swim: bad datagram", "from", from.ID.Short(), "err", err)
		return
	}
	n.run(func(o *outbox) {
		if m := n.members[from.ID]; m != nil && from.Addr.IsValid() {
			m.addr = from.Addr // roaming: the transport vouches for the sender
		}
		// The self-notice is the sender speaking for itself (the transport
		// vouches for the sender): unknown or outdated views of it heal on
		// contact. A sender that advertises an outdated record is told of
		// the newer one: on the ack when it pinged, else in a gossip datagram.
		self := d.self
		self.subject = from.ID
		fixes := n.correctionsLocked([]notice{self}, d.notices, d.repairs)
		switch d.typ {
		case msgPing:
			n.sendLocked(o, from, &datagram{typ: msgAck, seq: d.seq}, nil, fixes)
			fixes = nil
		case msgAck:
			n.handleAckLocked(o, from, d.seq)
		case msgNack:
			n.handleNackLocked(from, d.seq)
		case msgPingReq:
			n.handlePingReqLocked(o, from, d)
		}
		if len(fixes) > 0 {
			n.sendLocked(o, from, &datagram{typ: msgGossip}, nil, fixes)
		}
		n.noticesLocked(from, append([]notice{self}, d.notices...), false)
		n.noticesLocked(from, d.repairs, true)
	})
}

// HandleRequest answers a pull, push-pull or push.
func (h handler) HandleRequest(ctx context.Context, from core.Peer, payload []byte) ([]byte, error) {
	n := h.n
	if n.isClosed() {
		return nil, fmt.Errorf("swim: request from %s: %w", from.ID.Short(), core.ErrClosed)
	}
	q, err := decodeRequest(payload)
	if err != nil {
		n.run(func(*outbox) { n.stats.BadMessages++ })
		return nil, fmt.Errorf("swim: request from %s: %w", from.ID.Short(), err)
	}
	var reply []byte
	switch q.typ {
	case reqPull:
		n.run(func(*outbox) { reply = appendReply(nil, n.answerPullLocked(q.pulls)) })
	case reqPushPull:
		n.run(func(*outbox) {
			reply = appendReply(nil, n.missingForLocked(q.summary))
			n.noticesLocked(from, q.summary, true)
		})
	case reqPush:
		n.ingest(ctx, q.records, false)
		reply = appendReply(nil, nil)
	}
	if reply == nil { // closed meanwhile
		return nil, fmt.Errorf("swim: request from %s: %w", from.ID.Short(), core.ErrClosed)
	}
	return reply, nil
}
