package pqc

import (
	"encoding/asn1"

	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"
)

// seedSize is the ML-DSA key generation seed ξ (FIPS 204), the same for every
// parameter set.
const seedSize = 32

// verifyFunc is ML-DSA.Verify for one expanded public key.
type verifyFunc func(message, context, sig []byte) bool

// signFunc is ML-DSA.Sign for one private key, writing into sig; randomized
// selects hedged signing.
type signFunc func(message, context []byte, randomized bool, sig []byte) error

// mldsaParams adapts one circl ML-DSA package to a common shape.
type mldsaParams struct {
	name          string
	oid           asn1.ObjectIdentifier
	publicKeySize int
	signatureSize int
	// newKey derives a key pair from a seed: its verifier (already
	// expanded), its packed public key and its signer.
	newKey func(seed *[seedSize]byte) (verifyFunc, []byte, signFunc)
	// parse expands a packed public key of exactly publicKeySize bytes.
	parse func(raw []byte) verifyFunc
}

var (
	mldsa44Params = mldsaParamsOf("ML-DSA-44", 17, mldsa44.PublicKeySize, mldsa44.SignatureSize,
		mldsa44.NewKeyFromSeed, mldsa44.Verify, mldsa44.SignTo)
	mldsa65Params = mldsaParamsOf("ML-DSA-65", 18, mldsa65.PublicKeySize, mldsa65.SignatureSize,
		mldsa65.NewKeyFromSeed, mldsa65.Verify, mldsa65.SignTo)
	mldsa87Params = mldsaParamsOf("ML-DSA-87", 19, mldsa87.PublicKeySize, mldsa87.SignatureSize,
		mldsa87.NewKeyFromSeed, mldsa87.Verify, mldsa87.SignTo)
)

// circlPublicKey is what mldsaParamsOf needs of a circl ML-DSA public key: a
// pointer type whose UnmarshalBinary checks the length and expands the key.
type circlPublicKey[T any] interface {
	*T
	Bytes() []byte
	UnmarshalBinary(data []byte) error
}

// mldsaParamsOf builds the parameters of one circl ML-DSA package; oidArc is
// the last arc of its RFC 9881 OID under 2.16.840.1.101.3.4.3. Every call
// into circl is followed by clearAVXState (see avxstate_amd64.go).
func mldsaParamsOf[T any, PK circlPublicKey[T], SK any](
	name string, oidArc, publicKeySize, signatureSize int,
	newKeyFromSeed func(*[seedSize]byte) (PK, SK),
	verify func(pk PK, msg, ctx, sig []byte) bool,
	signTo func(sk SK, msg, ctx []byte, randomized bool, sig []byte) error,
) *mldsaParams {
	verifier := func(pk PK) verifyFunc {
		return func(message, context, sig []byte) bool {
			ok := verify(pk, message, context, sig)
			clearAVXState()
			return ok
		}
	}
	return &mldsaParams{
		name:          name,
		oid:           asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, oidArc},
		publicKeySize: publicKeySize,
		signatureSize: signatureSize,
		newKey: func(seed *[seedSize]byte) (verifyFunc, []byte, signFunc) {
			pk, sk := newKeyFromSeed(seed)
			clearAVXState()
			sign := func(message, context []byte, randomized bool, sig []byte) error {
				err := signTo(sk, message, context, randomized, sig)
				clearAVXState()
				return err
			}
			return verifier(pk), pk.Bytes(), sign
		},
		parse: func(raw []byte) verifyFunc {
			pk := PK(new(T))
			if err := pk.UnmarshalBinary(raw); err != nil {
				// Callers check the length, the only thing UnmarshalBinary rejects.
				panic("pqc: " + name + ": unpack checked public key: " + err.Error())
			}
			clearAVXState()
			return verifier(pk)
		},
	}
}
