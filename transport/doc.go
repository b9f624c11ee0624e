// Package transport is the cluster's secure session protocol (DESIGN.md §3,
// wire format in PROTOCOL.md): one UDP socket per node carries every
// session; a SIGMA-style handshake (a fresh KEM key exchange, X-Wing in
// production, authenticated by ML-DSA signatures over the whole transcript)
// makes per-direction AEAD keys; records carry KCP segments, datagrams,
// keepalives and close notices; KCP and smux on top give each session
// reliable ordered messages and multiplexed streams.
//
// How the pieces fit:
//
//   - An Endpoint owns the socket (Listen, ListenUDP). One read loop
//     classifies datagrams, reassembles handshake messages under strict
//     bounds, and authenticates records; two workers do the public-key
//     work (each may verify on a second core while it signs); one timer
//     loop drives retransmissions, keepalives, rekeys and timeouts; one
//     writer sends bulk records in batches (UDP GSO on Linux, GRO when
//     reading). Sessions are found by a random index in each packet, never
//     by address, so a peer can roam.
//   - Dial and Accept return a Session: Send/Receive for messages,
//     OpenStream/AcceptStream for net.Conn streams, SendDatagram/
//     ReceiveDatagram for unreliable datagrams (membership probes), Close to
//     end it at once. Dialing a peer that already has a session returns it.
//   - Config.Policy decides who may connect: a MemberRepo allow-list, a
//     pki.TrustStore, pinned NodeIDs — every configured tier must agree, and
//     it is re-checked at every rekey, or at once for every session by
//     Endpoint.Revalidate after the trust store or the repo changed.
//   - Crypto comes in through core.Suite (KEM, signature schemes, AEAD);
//     this package holds no algorithm of its own beyond SHA-256, HMAC and
//     HKDF from the standard library.
//   - Unauthenticated traffic is held to cheap work: stateless cookies,
//     3x anti-amplification, per-source rate limits and bounded state; see
//     PROTOCOL.md §4.
//
// Errors wrap sentinels (ErrRefused, ErrRefusedByPeer, ErrHandshakeTimeout,
// ErrSessionTimeout, ErrPeerClosed, ErrSessionClosed, ...) and core's, for
// errors.Is; handshake failures are *HandshakeError values with a Reason.
// Metrics returns counters for an exporter.
package transport
