// Package core holds the ports and small domain types that every layer of the
// clustering workspace shares. It imports the standard library only.
//
// The ports are interfaces that adapters implement:
//
//   - [SignatureScheme], [Signer] and [PublicKey]: signatures (ML-DSA in production).
//   - [KEM] and [KEMPrivateKey]: key encapsulation (X-Wing by default).
//   - [AEAD]: authenticated encryption for records (XChaCha20-Poly1305 by default).
//   - [PacketConn]: the datagram socket the transport runs over.
//   - [MemberRepo]: the member registry (memory, CSV file or etcd).
//
// A [Suite] bundles one KEM, the accepted signature schemes and one AEAD.
// [NodeID] names a node by the SHA-256 of its public key, so a renewed
// certificate keeps the node's identity. Package coretest provides
// standard-library doubles of the crypto ports for unit tests.
package core
