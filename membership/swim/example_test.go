package swim_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest"
	"github.com/snowmerak/clustering/core/coretest/sim"
	"github.com/snowmerak/clustering/membership/swim"
)

// Three members in virtual time: they join through the first, one crashes,
// and the others declare it dead. In production the Messenger is the secure
// transport, the clock core.SystemClock{}, the signer an ML-DSA key and Keys
// a resolver backed by the trust store.
func Example() {
	clock := sim.NewClock(time.Unix(0, 0))
	network := sim.NewNetwork(clock, 1)
	network.SetDefaultLink(sim.Link{Latency: time.Millisecond})

	names := []string{"alpha", "bravo", "charlie"}
	var signers []core.Signer
	keys := swim.StaticKeys{} // every member trusts the three keys
	name := map[core.NodeID]string{}
	for _, n := range names {
		seed := sha256.Sum256([]byte(n))
		s, _ := coretest.Ed25519.NewKeyFromSeed(seed[:])
		signers = append(signers, s)
		keys[core.NodeIDOf(s.Public())] = s.Public()
		name[core.NodeIDOf(s.Public())] = n
	}

	var nodes []*swim.Node
	for i, s := range signers {
		ep, _ := network.Attach(core.Peer{ID: core.NodeIDOf(s.Public())})
		cfg := swim.DefaultLocalConfig()
		cfg.Signer, cfg.Keys = s, keys
		cfg.Meta = swim.Meta{Zone: fmt.Sprintf("zone-%d", i), Weight: 1}
		cfg.Rand = rand.New(rand.NewPCG(1, uint64(i)))
		if i == 0 {
			cfg.Events = func(ev swim.Event) {
				fmt.Printf("alpha sees %s: %s\n", name[ev.Member.ID], ev.Kind)
			}
		}
		node, err := swim.New(cfg, ep, clock)
		if err != nil {
			panic(err)
		}
		nodes = append(nodes, node)
	}
	seed := core.Peer{ID: nodes[0].ID()}
	for _, n := range nodes[1:] {
		if _, err := n.Join(context.Background(), []core.Peer{seed}); err != nil {
			panic(err)
		}
	}
	clock.RunFor(5 * time.Second)

	network.Crash(nodes[2].ID())
	clock.RunFor(time.Minute)
	for _, m := range nodes[1].Members() { // sorted by ID
		fmt.Printf("bravo's view: %s %s (%s)\n", name[m.ID], m.State, m.Meta.Zone)
	}
	for _, n := range nodes {
		n.Shutdown()
	}
	// Output:
	// alpha sees bravo: join
	// alpha sees charlie: join
	// alpha sees charlie: suspect
	// alpha sees charlie: dead
	// bravo's view: alpha alive (zone-0)
	// bravo's view: charlie dead (zone-2)
	// bravo's view: bravo alive (zone-1)
}
