// Package pqc implements the crypto ports of package core with post-quantum
// algorithms from github.com/cloudflare/circl and golang.org/x/crypto.
//
// Signatures are ML-DSA (FIPS 204) in its three parameter sets, [MLDSA44],
// [MLDSA65] and [MLDSA87], with the RFC 9881 object identifiers. Private keys
// are kept as their 32-byte seed, so a key file holds only the seed and the
// expanded key is rebuilt with NewKeyFromSeed. Signing is hedged (FIPS 204
// randomized signing, fresh randomness from crypto/rand mixed with the key);
// [Deterministic] gives the deterministic variant for tests and vectors.
//
// Parsing an ML-DSA public key is cheap: the expanded form that verification
// needs (the matrix A, 16–56 KiB depending on the parameter set) is computed
// on the first Verify and kept in a small bounded cache per parameter set,
// keyed by the exact key bytes, so the certificate authority and peer keys
// that a node verifies again and again are expanded once. See
// [WithPublicKeyCache].
//
// Key encapsulation is [XWing] (X25519 + ML-KEM-768, the default),
// [MLKEM768] and [MLKEM1024] (FIPS 203), identified by their HPKE KEM IDs.
// Encapsulate draws exactly the scheme's encapsulation seed from the reader it
// is given and is otherwise deterministic, so published vectors reproduce
// through the port.
//
// Record protection is [XChaCha20Poly1305] (the default), [ChaCha20Poly1305]
// or [AES256GCM].
//
// [DefaultSuite] and [CNSA2Suite] bundle these into the two suites the
// transport offers. Every entry point checks sizes first and reports bad
// input as an error wrapping core.ErrInvalidInput; none panics on it.
package pqc
