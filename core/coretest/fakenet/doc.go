// Package fakenet is an in-memory datagram network for tests: every endpoint is
// a core.PacketConn (a net.PacketConn), and every directed link can be given
// seeded, reproducible faults — loss, duplication, reordering, delay with
// jitter, a bandwidth limit and an MTU — as well as one-way or two-way
// partitions, crashed nodes and NAT rebinding. An adversary hook sees every
// packet on the wire and may read, drop or modify it, and Inject puts forged
// packets on the wire.
//
// Fault decisions on a link come from a random source seeded by the network's
// seed and the link's endpoints, so the same sequence of packets on a link meets
// the same faults on every run: a failing test that prints Network.Seed can be
// rerun with that seed.
//
// Time is real (delays use timers); the network has no virtual clock.
package fakenet
