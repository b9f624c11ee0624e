package sim_test

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest/sim"
)

// recorder is a core.MessageHandler that logs what reaches it and when.
type recorder struct {
	clock *sim.Clock
	got   []string
	at    []time.Duration
	from  []core.Peer
}

func (r *recorder) HandleDatagram(from core.Peer, p []byte) {
	r.got = append(r.got, string(p))
	r.at = append(r.at, r.clock.Now().Sub(epoch))
	r.from = append(r.from, from)
}

func (r *recorder) HandleRequest(_ context.Context, from core.Peer, p []byte) ([]byte, error) {
	if string(p) == "fail" {
		return nil, errors.New("refused")
	}
	return append([]byte("re:"), p...), nil
}

func nodeID(b byte) core.NodeID { return core.NodeID{b} }

type world struct {
	clock *sim.Clock
	net   *sim.Network
	eps   []*sim.Endpoint
	recs  []*recorder
}

func newWorld(t *testing.T, seed int64, n int) *world {
	t.Helper()
	w := &world{clock: sim.NewClock(epoch)}
	w.net = sim.NewNetwork(w.clock, seed)
	for i := range n {
		ep, err := w.net.Attach(core.Peer{ID: nodeID(byte(i + 1)), Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)}), 7946)})
		if err != nil {
			t.Fatal(err)
		}
		r := &recorder{clock: w.clock}
		ep.Handle(r)
		w.eps = append(w.eps, ep)
		w.recs = append(w.recs, r)
	}
	return w
}

func (w *world) send(i, j int, msg string) {
	w.eps[i].SendDatagram(context.Background(), w.eps[j].Peer(), []byte(msg))
}

func TestNetworkRules(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, w *world)
	}{
		{"delivery happens after the link latency, never synchronously", func(t *testing.T, w *world) {
			w.net.SetDefaultLink(sim.Link{Latency: 5 * time.Millisecond})
			w.send(0, 1, "a")
			if len(w.recs[1].got) != 0 {
				t.Fatal("datagram delivered inside SendDatagram")
			}
			w.clock.RunFor(time.Second)
			if !slices.Equal(w.recs[1].got, []string{"a"}) || w.recs[1].at[0] != 5*time.Millisecond {
				t.Fatalf("got %v at %v", w.recs[1].got, w.recs[1].at)
			}
			if w.recs[1].from[0] != w.eps[0].Peer() {
				t.Fatalf("from %v, want the sender's peer", w.recs[1].from[0])
			}
		}},
		{"zero latency still waits for the clock", func(t *testing.T, w *world) {
			w.send(0, 1, "a")
			if len(w.recs[1].got) != 0 || w.net.InFlight() != 1 {
				t.Fatal("zero-latency datagram delivered synchronously")
			}
			w.clock.RunFor(0)
			if len(w.recs[1].got) != 1 || w.net.InFlight() != 0 {
				t.Fatal("zero-latency datagram not delivered by RunFor(0)")
			}
		}},
		{"a per-link setting overrides the default", func(t *testing.T, w *world) {
			w.net.SetDefaultLink(sim.Link{Loss: 1})
			w.net.SetLink(w.eps[0].Peer().ID, w.eps[1].Peer().ID, sim.Link{Latency: time.Millisecond})
			w.send(0, 1, "through")
			w.send(1, 0, "lost")
			w.clock.RunFor(time.Second)
			if len(w.recs[1].got) != 1 || len(w.recs[0].got) != 0 {
				t.Fatalf("got %v and %v", w.recs[1].got, w.recs[0].got)
			}
		}},
		{"partition cuts both ways and heal restores", func(t *testing.T, w *world) {
			w.net.Partition([]core.NodeID{w.eps[0].Peer().ID}, []core.NodeID{w.eps[1].Peer().ID, w.eps[2].Peer().ID})
			w.send(0, 1, "x")
			w.send(2, 0, "x")
			w.send(1, 2, "same side")
			if _, err := w.eps[0].Request(ctx, w.eps[1].Peer(), []byte("q")); !errors.Is(err, sim.ErrUnreachable) {
				t.Fatalf("request across a partition: %v", err)
			}
			w.clock.RunFor(time.Second)
			if len(w.recs[0].got)+len(w.recs[1].got) != 0 || len(w.recs[2].got) != 1 {
				t.Fatal("partition leaked or blocked the wrong link")
			}
			w.net.Heal()
			w.send(0, 1, "y")
			w.clock.RunFor(time.Second)
			if len(w.recs[1].got) != 1 {
				t.Fatal("heal did not restore the link")
			}
		}},
		{"a one-way block stops requests, which need both directions", func(t *testing.T, w *world) {
			w.net.Block(w.eps[1].Peer().ID, w.eps[0].Peer().ID)
			if _, err := w.eps[0].Request(ctx, w.eps[1].Peer(), []byte("q")); !errors.Is(err, sim.ErrUnreachable) {
				t.Fatalf("request with the reply path blocked: %v", err)
			}
			w.send(0, 1, "forward works")
			w.clock.RunFor(time.Second)
			if len(w.recs[1].got) != 1 {
				t.Fatal("forward direction blocked too")
			}
		}},
		{"crash drops datagrams already in flight", func(t *testing.T, w *world) {
			w.net.SetDefaultLink(sim.Link{Latency: 10 * time.Millisecond})
			w.send(0, 1, "late")
			w.clock.RunFor(5 * time.Millisecond)
			w.net.Crash(w.eps[1].Peer().ID)
			w.clock.RunFor(time.Second)
			if len(w.recs[1].got) != 0 {
				t.Fatal("crashed node received a datagram")
			}
			w.net.Restore(w.eps[1].Peer().ID)
			w.send(0, 1, "after")
			w.clock.RunFor(time.Second)
			if len(w.recs[1].got) != 1 {
				t.Fatal("restored node unreachable")
			}
		}},
		{"requests are answered synchronously, by id or by address", func(t *testing.T, w *world) {
			before := w.clock.Now()
			r, err := w.eps[0].Request(ctx, w.eps[1].Peer(), []byte("q"))
			if err != nil || string(r) != "re:q" || !w.clock.Now().Equal(before) {
				t.Fatalf("reply %q err %v", r, err)
			}
			r, err = w.eps[0].Request(ctx, core.Peer{Addr: w.eps[2].Peer().Addr}, []byte("by addr"))
			if err != nil || string(r) != "re:by addr" {
				t.Fatalf("reply by address %q err %v", r, err)
			}
			if _, err := w.eps[0].Request(ctx, w.eps[1].Peer(), []byte("fail")); err == nil {
				t.Fatal("handler error not returned")
			}
			if _, err := w.eps[0].Request(ctx, core.Peer{ID: nodeID(99)}, []byte("q")); !errors.Is(err, sim.ErrUnreachable) {
				t.Fatalf("request to unknown node: %v", err)
			}
			st := w.net.Stats(w.eps[0].Peer().ID)
			if st.Requests != 4 || st.RequestsFailed != 2 || st.ReplyBytes != int64(len("re:q")+len("re:by addr")) {
				t.Fatalf("stats %+v", st)
			}
		}},
		{"a detached endpoint neither sends nor receives", func(t *testing.T, w *world) {
			w.eps[1].Detach()
			w.send(0, 1, "x")
			w.send(1, 0, "x")
			w.clock.RunFor(time.Second)
			if len(w.recs[0].got)+len(w.recs[1].got) != 0 {
				t.Fatal("detached endpoint still on the network")
			}
		}},
		{"a cancelled context fails a request before the peer sees it", func(t *testing.T, w *world) {
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			if _, err := w.eps[0].Request(cctx, w.eps[1].Peer(), []byte("q")); !errors.Is(err, context.Canceled) {
				t.Fatalf("err %v", err)
			}
		}},
		{"stats count sent bytes and the largest datagram", func(t *testing.T, w *world) {
			w.send(0, 1, "abc")
			w.send(0, 2, "abcdefgh")
			w.clock.RunFor(time.Second)
			st := w.net.Stats(w.eps[0].Peer().ID)
			if st.DatagramsSent != 2 || st.DatagramBytesSent != 11 || st.MaxDatagram != 8 {
				t.Fatalf("stats %+v", st)
			}
			if tot := w.net.Total(); tot.DatagramsReceived != 2 {
				t.Fatalf("total %+v", tot)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newWorld(t, 1, 3)) })
	}
}

func TestNetworkAttachRejectsDuplicates(t *testing.T) {
	w := newWorld(t, 1, 2)
	if _, err := w.net.Attach(core.Peer{}); !errors.Is(err, core.ErrInvalidInput) {
		t.Fatalf("zero id: %v", err)
	}
	if _, err := w.net.Attach(w.eps[0].Peer()); !errors.Is(err, core.ErrInvalidInput) {
		t.Fatalf("duplicate id: %v", err)
	}
	if _, err := w.net.Attach(core.Peer{ID: nodeID(77), Addr: w.eps[1].Peer().Addr}); !errors.Is(err, core.ErrInvalidInput) {
		t.Fatalf("duplicate address: %v", err)
	}
}

// lossRun sends 1000 datagrams over a 30%-loss, jittery link and returns which arrived and when.
func lossRun(t *testing.T, seed int64) ([]string, []time.Duration) {
	w := newWorld(t, seed, 2)
	w.net.SetDefaultLink(sim.Link{Loss: 0.3, Latency: time.Millisecond, Jitter: 4 * time.Millisecond})
	for i := range 1000 {
		w.send(0, 1, string(rune('0'+i%64)))
		w.clock.RunFor(time.Millisecond)
	}
	w.clock.RunFor(time.Second)
	return w.recs[1].got, w.recs[1].at
}

func TestNetworkLossIsSeededAndReproducible(t *testing.T) {
	got1, at1 := lossRun(t, 7)
	got2, at2 := lossRun(t, 7)
	if !slices.Equal(got1, got2) || !slices.Equal(at1, at2) {
		t.Fatal("same seed, different run")
	}
	if n := len(got1); n < 650 || n > 750 {
		t.Fatalf("delivered %d of 1000 at 30%% loss", n)
	}
	got3, _ := lossRun(t, 8)
	if slices.Equal(got1, got3) {
		t.Fatal("different seeds gave the same losses")
	}
}
