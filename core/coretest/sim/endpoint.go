package sim

import (
	"context"

	"github.com/snowmerak/clustering/core"
)

// Endpoint is one node's attachment to a Network; it implements core.Messenger.
type Endpoint struct {
	net  *Network
	peer core.Peer

	// guarded by net.mu
	handler  core.MessageHandler
	detached bool
	stats    Stats
}

var _ core.Messenger = (*Endpoint)(nil)

// Peer returns the identity and address this endpoint sends as.
func (e *Endpoint) Peer() core.Peer { return e.peer }

// SendDatagram schedules delivery of payload to the peer (by ID, or by
// address when the ID is zero) after the link's latency, unless the link
// loses it. An unknown or unreachable peer silently loses it, as UDP would.
func (e *Endpoint) SendDatagram(ctx context.Context, to core.Peer, payload []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e.net.sendDatagram(e, to, payload)
	return nil
}

// Request calls the peer's handler synchronously, at the current virtual time,
// and returns its reply. It fails with ErrUnreachable when either direction
// is cut, either end has crashed or detached, or the peer has no handler.
func (e *Endpoint) Request(ctx context.Context, to core.Peer, payload []byte) ([]byte, error) {
	return e.net.request(ctx, e, to, payload)
}

// Handle installs the handler for inbound messages.
func (e *Endpoint) Handle(h core.MessageHandler) {
	e.net.mu.Lock()
	defer e.net.mu.Unlock()
	e.handler = h
}

// Detach takes the endpoint off the network, as a process exit would: nothing
// more reaches it or leaves it. Its ID stays reserved.
func (e *Endpoint) Detach() {
	e.net.mu.Lock()
	defer e.net.mu.Unlock()
	e.detached = true
}
