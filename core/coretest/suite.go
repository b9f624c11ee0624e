package coretest

import "github.com/snowmerak/clustering/core"

// Suite returns a standard-library suite: ML-KEM-768, Ed25519 and AES-256-GCM.
func Suite() core.Suite {
	return core.Suite{
		Name:       "coretest",
		KEM:        MLKEM768,
		Signatures: []core.SignatureScheme{Ed25519},
		AEAD:       AES256GCM,
	}
}
