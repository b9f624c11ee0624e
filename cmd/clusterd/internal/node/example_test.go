package node_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/snowmerak/clustering/adapters/memrepo"
	"github.com/snowmerak/clustering/cmd/clusterd/internal/config"
	"github.com/snowmerak/clustering/cmd/clusterd/internal/devpki"
	"github.com/snowmerak/clustering/cmd/clusterd/internal/node"
	"github.com/snowmerak/clustering/cmd/clusterd/internal/registry"
	"github.com/snowmerak/clustering/cmd/clusterd/internal/trust"
	"github.com/snowmerak/clustering/core/coretest"
	"github.com/snowmerak/clustering/core/coretest/fakenet"
	"github.com/snowmerak/clustering/membership/swim"
	"github.com/snowmerak/clustering/pki"
)

// Two nodes on a fake network join, place keys over both, and one leaves.
// clusterd run builds the same Options from a file (node.FromConfig), with
// ML-DSA certificates, the X-Wing suite and a UDP socket.
func Example() {
	dir, _ := os.MkdirTemp("", "node-example-")
	defer os.RemoveAll(dir)
	ca, _ := devpki.New(dir, "example", coretest.Ed25519, time.Now())
	network := fakenet.New(1)
	shared := memrepo.New()
	defer shared.Close()
	ctx := context.Background()

	start := func(name, addr string, seeds ...config.Seed) *node.Node {
		files, _ := ca.Node(name)
		conn, _ := network.Listen(addr)
		n, err := node.Start(ctx, node.Options{
			Identity: trust.Identity{Signer: files.Key, Chain: files.Chain},
			Suite:    coretest.Suite(), Trust: pki.NewTrustStore(ca.Root),
			Registry: registry.Wrap(shared), Register: true,
			Conn: conn, Seeds: seeds, JoinTimeout: 10 * time.Second,
			Topology: config.Topology{Zone: "zone-" + name, Weight: 1},
			SWIM:     swim.DefaultLocalConfig(), Replicas: 2,
		})
		if err != nil {
			panic(err)
		}
		return n
	}
	n1 := start("n1", "10.0.0.1:7946")
	defer n1.Close()
	n2 := start("n2", "10.0.0.2:7946", config.Seed{Host: "10.0.0.1", Port: 7946})

	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, _ := n1.WaitView(wctx, func(v *node.View) bool { return len(v.Members) == 2 })
	fmt.Println("placed:", len(v.Members), "members, owners of a key:", len(v.Owners([]byte("user:42"), 2)))

	n2.Leave(ctx)
	n2.Close()
	v, _ = n1.WaitView(wctx, func(v *node.View) bool { return len(v.Members) == 1 })
	fmt.Println("after the leave:", len(v.Members), "member")
	// Output:
	// placed: 2 members, owners of a key: 2
	// after the leave: 1 member
}
