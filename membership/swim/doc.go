// Package swim is failure detection and membership dissemination for the
// cluster: SWIM with the Lifeguard refinements, in which every statement a
// member makes about itself, and every accusation against another, is signed
// by the speaker's own key, so that no member can speak for another.
//
// # Protocol
//
// Each ProbeInterval a Node pings one member, walking a shuffled round-robin
// order. Without an ack within ProbeTimeout it asks IndirectChecks other
// members to ping the target for it; they relay the ack, or send a nack if
// the target is silent to them too. A probe that ends without an ack makes the
// prober accuse the target: it signs a suspect record naming the target's
// incarnation. The suspicion expires into a dead verdict (also signed) after a
// timeout that shrinks as independent members confirm it (Lifeguard's dynamic
// suspicion), unless the target refutes it by announcing itself alive with a
// higher incarnation. A node that misses acks and nacks raises its own health
// score and stretches its probe interval (Lifeguard's local health awareness),
// and a probe of a suspect carries the suspicion, so the target hears of it
// (the buddy system). A helper nacks after 80% of ProbeTimeout, so its nack
// reaches the prober before the probe ends.
//
// # Signed records and dissemination
//
// Member state travels as signed records (record.go): alive (with metadata
// and an optional credential, such as a certificate chain) and leave, signed
// by the member itself; suspect and dead, signed by the accuser. A receiver
// resolves the signer's key through Config.Keys, checks that the key hashes to
// the signer's NodeID and verifies the signature before applying anything; a
// cache keyed by record hash makes a record verified once however often it is
// received. Records of ML-DSA keys are several kilobytes (a 3309-byte
// signature for ML-DSA-65), far above the 1200-byte datagram budget, so
// datagrams carry only 49-byte notices (subject, kind, incarnation, digest),
// piggybacked on probes and sent in gossip rounds; a node that wants a record
// it hears of pulls it from the sender by request. Gossip stops after a few
// transmissions, so two repairs catch what it misses (repair.go): a node keeps
// reminding peers of the suspicions it holds, and a node that hears an
// outdated notice answers with its newer one. A periodic push-pull exchanges
// summaries of every record held and moves only the missing ones, and a
// reconnect timer tries dead members, so partitions heal. A dead verdict that
// arrives by such anti-entropy, or from an accuser this node holds dead, only
// makes the node suspect the member, which can then refute: old verdicts from
// the far side of a healed partition do not kill live members. Any other
// member's dead verdict is applied only once this node's own suspicion of the
// member has run the shortest suspicion timeout, so one member alone cannot
// evict another faster than it could refute. Tombstones of dead and departed
// members are kept TombstoneTimeout, and only of members the node knew; a
// member that left stays remembered by the incarnation of its leave after
// that, so its earlier records, replayed, never bring it back.
//
// # Ports
//
// A Node reaches peers only through core.Messenger (datagrams plus
// request/response; the secure transport implements it, so the sender of a
// message is authenticated) and takes time only from core.Clock. It runs no
// goroutine of its own: every step is a clock timer or a delivered message.
// Package core/coretest/sim runs many Nodes in virtual time.
package swim
