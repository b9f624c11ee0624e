package coretest

import (
	"crypto/mlkem"
	"fmt"
	"io"

	"github.com/snowmerak/clustering/core"
)

// MLKEM768 is a core.KEM backed by the standard library's crypto/mlkem. Its
// Encapsulate ignores the rand argument: crypto/mlkem always uses crypto/rand.
var MLKEM768 core.KEM = mlkem768{}

type mlkem768 struct{}

func (mlkem768) Name() string          { return "ML-KEM-768" }
func (mlkem768) ID() uint16            { return 0x0041 }
func (mlkem768) PublicKeySize() int    { return mlkem.EncapsulationKeySize768 }
func (mlkem768) CiphertextSize() int   { return mlkem.CiphertextSize768 }
func (mlkem768) SharedSecretSize() int { return mlkem.SharedKeySize }
func (mlkem768) SeedSize() int         { return mlkem.SeedSize }

func (mlkem768) NewKeyFromSeed(seed []byte) (core.KEMPrivateKey, error) {
	dk, err := mlkem.NewDecapsulationKey768(seed)
	if err != nil {
		return nil, fmt.Errorf("ml-kem-768 seed: %v: %w", err, core.ErrInvalidInput)
	}
	return mlkemKey{dk}, nil
}

func (mlkem768) GenerateKey(io.Reader) (core.KEMPrivateKey, error) {
	dk, err := mlkem.GenerateKey768()
	if err != nil {
		return nil, fmt.Errorf("ml-kem-768 keygen: %w", err)
	}
	return mlkemKey{dk}, nil
}

func (mlkem768) Encapsulate(_ io.Reader, publicKey []byte) ([]byte, []byte, error) {
	ek, err := mlkem.NewEncapsulationKey768(publicKey)
	if err != nil {
		return nil, nil, fmt.Errorf("ml-kem-768 encapsulation key: %v: %w", err, core.ErrInvalidInput)
	}
	ss, ct := ek.Encapsulate()
	return ct, ss, nil
}

type mlkemKey struct{ dk *mlkem.DecapsulationKey768 }

func (k mlkemKey) PublicKey() []byte { return k.dk.EncapsulationKey().Bytes() }

func (k mlkemKey) Decapsulate(ciphertext []byte) ([]byte, error) {
	ss, err := k.dk.Decapsulate(ciphertext)
	if err != nil {
		return nil, fmt.Errorf("ml-kem-768 decapsulate: %v: %w", err, core.ErrInvalidInput)
	}
	return ss, nil
}
