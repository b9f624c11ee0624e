package transport_test

import (
	"context"
	"crypto/sha256"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"time"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest"
	"github.com/snowmerak/clustering/core/coretest/fakenet"
	"github.com/snowmerak/clustering/pki"
	"github.com/snowmerak/clustering/transport"
)

// exampleKey derives a deterministic test key (use pki's key files in production).
func exampleKey(label string) core.Signer {
	seed := sha256.Sum256([]byte(label))
	k, _ := coretest.Ed25519.NewKeyFromSeed(seed[:])
	return k
}

// Two nodes that trust the same root open a session, exchange a message and
// copy a stream. Production code uses adapters/pqc's suite and ListenUDP.
func Example() {
	now := time.Now()
	rootKey := exampleKey("root")
	root, _ := pki.NewRoot(pki.Template{Subject: pkix.Name{CommonName: "Example Root"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true}, rootKey, nil)
	identity := func(name string) transport.Identity {
		k := exampleKey(name)
		leaf, _ := pki.Issue(pki.Template{Subject: pkix.Name{CommonName: name}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}, k.Public(), root, rootKey, nil)
		return transport.Identity{Signer: k, Chain: [][]byte{leaf.Raw}}
	}
	config := func(name string) transport.Config {
		return transport.Config{
			Identity: identity(name),
			Suite:    coretest.Suite(),
			Policy:   transport.PeerPolicy{Trust: pki.NewTrustStore(root)},
		}
	}

	network := fakenet.New(1)
	connA, _ := network.Listen("10.0.0.1:7946")
	connB, _ := network.Listen("10.0.0.2:7946")
	a, _ := transport.Listen(connA, config("node-a"))
	b, _ := transport.Listen(connB, config("node-b"))
	defer a.Close()
	defer b.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sa, err := a.Dial(ctx, "10.0.0.2:7946")
	if err != nil {
		fmt.Println(err)
		return
	}
	sb, _ := b.Accept(ctx)
	fmt.Println("b sees a:", sb.PeerID() == a.NodeID())

	sa.Send(ctx, []byte("hello"))
	msg, _ := sb.Receive(ctx)
	fmt.Println("message:", string(msg))

	st, _ := sa.OpenStream(ctx)
	go func() { st.Write([]byte("streamed bytes")); st.Close() }()
	in, _ := sb.AcceptStream(ctx)
	all, _ := io.ReadAll(in)
	fmt.Println("stream:", string(all))
	// Output:
	// b sees a: true
	// message: hello
	// stream: streamed bytes
}
