package core

import "net"

// PacketConn is the datagram socket the transport runs over: the
// net.PacketConn method set, so a UDP socket, an in-memory fake network and
// kcp-go's conn types all satisfy it unchanged.
type PacketConn interface {
	net.PacketConn
}
