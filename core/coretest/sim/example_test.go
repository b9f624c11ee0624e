package sim_test

import (
	"context"
	"fmt"
	"time"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest/sim"
)

// echo answers every datagram with "pong" and logs the virtual time.
type echo struct {
	name  string
	ep    *sim.Endpoint
	clock *sim.Clock
}

func (e *echo) HandleDatagram(from core.Peer, p []byte) {
	fmt.Printf("%v %s got %s\n", e.clock.Now().Sub(time.Unix(0, 0)), e.name, p)
	if string(p) == "ping" {
		e.ep.SendDatagram(context.Background(), from, []byte("pong"))
	}
}

func (e *echo) HandleRequest(context.Context, core.Peer, []byte) ([]byte, error) { return nil, nil }

// Two nodes on a 20 ms link exchange a ping and a pong; a timer fires at 1 s.
// Nothing happens in real time: RunFor executes the events in virtual time.
func Example() {
	clock := sim.NewClock(time.Unix(0, 0))
	network := sim.NewNetwork(clock, 1)
	network.SetDefaultLink(sim.Link{Latency: 20 * time.Millisecond})

	a, _ := network.Attach(core.Peer{ID: core.NodeID{1}})
	b, _ := network.Attach(core.Peer{ID: core.NodeID{2}})
	a.Handle(&echo{name: "a", ep: a, clock: clock})
	b.Handle(&echo{name: "b", ep: b, clock: clock})

	a.SendDatagram(context.Background(), b.Peer(), []byte("ping"))
	clock.AfterFunc(time.Second, func() { fmt.Println("1s timer") })
	clock.RunFor(time.Minute)
	fmt.Println("now:", clock.Now().Sub(time.Unix(0, 0)))
	// Output:
	// 20ms b got ping
	// 40ms a got pong
	// 1s timer
	// now: 1m0s
}
