package transport_test

import (
	"context"
	"crypto/x509/pkix"
	"fmt"
	"net/netip"
	"time"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest"
	"github.com/snowmerak/clustering/core/coretest/fakenet"
	"github.com/snowmerak/clustering/pki"
	"github.com/snowmerak/clustering/transport"
)

// echo answers requests and reports datagrams, naming the authenticated sender.
type echo struct {
	names map[core.NodeID]string
	got   chan string
}

func (e echo) HandleDatagram(from core.Peer, payload []byte) {
	e.got <- fmt.Sprintf("datagram %q from %s", payload, e.names[from.ID])
}

func (e echo) HandleRequest(_ context.Context, from core.Peer, payload []byte) ([]byte, error) {
	return fmt.Appendf(nil, "%s asked %q", e.names[from.ID], payload), nil
}

// A Messenger is the core.Messenger membership runs on: datagrams and
// request/response over the endpoint's sessions, dialed on demand, with the
// sender authenticated by its certificate.
func ExampleMessenger() {
	now := time.Now()
	rootKey := exampleKey("root")
	root, _ := pki.NewRoot(pki.Template{Subject: pkix.Name{CommonName: "Example Root"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour)}, rootKey, nil)
	network := fakenet.New(1)
	names := map[core.NodeID]string{}
	start := func(name, addr string) (*transport.Endpoint, *transport.Messenger, chan string) {
		k := exampleKey(name)
		leaf, _ := pki.Issue(pki.Template{Subject: pkix.Name{CommonName: name}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}, k.Public(), root, rootKey, nil)
		conn, _ := network.Listen(addr)
		e, _ := transport.Listen(conn, transport.Config{
			Identity: transport.Identity{Signer: k, Chain: [][]byte{leaf.Raw}},
			Suite:    coretest.Suite(),
			Policy:   transport.PeerPolicy{Trust: pki.NewTrustStore(root)},
		})
		names[e.NodeID()] = name
		m := transport.NewMessenger(e, transport.MessengerConfig{})
		got := make(chan string, 1)
		m.Handle(echo{names: names, got: got})
		return e, m, got
	}
	ea, ma, _ := start("alpha", "10.0.0.1:7946")
	eb, mb, gotB := start("bravo", "10.0.0.2:7946")
	defer func() { ma.Close(); mb.Close(); ea.Close(); eb.Close() }()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	bravo := core.Peer{ID: eb.NodeID(), Addr: netip.MustParseAddrPort("10.0.0.2:7946")}
	reply, err := ma.Request(ctx, bravo, []byte("state?"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(reply))
	ma.SendDatagram(ctx, bravo, []byte("ping"))
	fmt.Println(<-gotB)
	// Output:
	// alpha asked "state?"
	// datagram "ping" from alpha
}
