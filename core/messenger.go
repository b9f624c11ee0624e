package core

import (
	"context"
	"net/netip"
)

// Peer names a node to send to: its ID and, when known, its transport address.
// A joining node may know a seed only by address; the transport then learns
// the ID from the peer's authenticated certificate.
type Peer struct {
	ID   NodeID
	Addr netip.AddrPort
}

// String is the peer as seeds are written, short ID@address, leaving out
// what is unknown (a zero ID, an invalid address).
func (p Peer) String() string {
	switch {
	case p.ID.IsZero():
		return p.Addr.String()
	case !p.Addr.IsValid():
		return p.ID.Short()
	}
	return p.ID.Short() + "@" + p.Addr.String()
}

// MessageHandler receives the messages a Messenger delivers. The Peer passed
// in is authenticated by the transport: its ID is the sender's verified NodeID.
type MessageHandler interface {
	// HandleDatagram receives an unreliable datagram.
	HandleDatagram(from Peer, payload []byte)
	// HandleRequest answers a request; the returned bytes are the reply.
	HandleRequest(ctx context.Context, from Peer, payload []byte) ([]byte, error)
}

// Messenger is how membership reaches other members: authenticated datagrams
// for probes and gossip, and request/response for full-state exchanges. The
// secure transport implements it over its sessions; simulations implement it
// in memory.
type Messenger interface {
	// SendDatagram sends payload to the peer, best effort: it may be lost.
	SendDatagram(ctx context.Context, to Peer, payload []byte) error
	// Request sends payload reliably and waits for the peer's reply.
	Request(ctx context.Context, to Peer, payload []byte) ([]byte, error)
	// Handle installs the handler for inbound messages; call it before the
	// first message can arrive.
	Handle(h MessageHandler)
}
