// Package sim runs protocols in virtual time: a Clock whose timers fire only
// when a test advances it, and an in-memory Network whose endpoints implement
// core.Messenger, with seeded per-link loss, latency and jitter, partitions and
// crashes. Every datagram delivery is a clock event, so a cluster of many nodes
// runs for simulated minutes in a fraction of a second of real time, and the
// same seed replays the same run.
//
// The pieces fit like this:
//
//	clock := sim.NewClock(start)        // virtual time, a min-heap of timers
//	net := sim.NewNetwork(clock, seed)  // fault decisions from seed
//	ep := net.Attach(peer)              // a core.Messenger for one node
//	// build the protocol on ep and clock, then:
//	clock.RunFor(10 * time.Minute)      // fire every timer and delivery in order
//
// Determinism: events run one at a time on the goroutine that calls Run*, in
// order of due time and, for equal times, of scheduling. A protocol that takes
// its randomness from a seed and never iterates a Go map where order matters
// therefore behaves identically on every run with the same seeds.
//
// Requests (core.Messenger.Request) model a reliable stream: they are answered
// synchronously, at the current virtual time, by calling the peer's handler
// on the caller's goroutine; a crashed, partitioned or detached peer fails the
// request at once with ErrUnreachable. Callers must not hold locks the peer's
// handler needs. Datagrams are never delivered synchronously: a send always
// schedules an event, even with zero latency, so handlers are not re-entered.
package sim
