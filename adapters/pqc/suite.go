package pqc

import "github.com/snowmerak/clustering/core"

// DefaultSuite is the suite nodes use unless configured otherwise: X-Wing for
// the handshake (hybrid, so it is no weaker than X25519 if ML-KEM falls),
// ML-DSA-65, ML-DSA-87 and ML-DSA-44 for certificates (preferred first), and
// XChaCha20-Poly1305 for records. Each call returns a fresh Signatures slice.
func DefaultSuite() core.Suite {
	return core.Suite{
		Name:       "default",
		KEM:        XWing,
		Signatures: SignatureSchemes(),
		AEAD:       XChaCha20Poly1305,
	}
}

// CNSA2Suite follows NSA's CNSA 2.0 algorithm list: ML-KEM-1024, ML-DSA-87
// only, and AES-256-GCM. Each call returns a fresh Signatures slice.
func CNSA2Suite() core.Suite {
	return core.Suite{
		Name:       "cnsa2",
		KEM:        MLKEM1024,
		Signatures: []core.SignatureScheme{MLDSA87},
		AEAD:       AES256GCM,
	}
}
