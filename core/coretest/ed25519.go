package coretest

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/asn1"
	"fmt"
	"io"

	"github.com/snowmerak/clustering/core"
)

// Ed25519 is a core.SignatureScheme for Ed25519 (RFC 8032; Ed25519ctx when a
// context is given), with the RFC 8410 OID 1.3.101.112.
var Ed25519 core.SignatureScheme = ed25519Scheme{}

type ed25519Scheme struct{}

var oidEd25519 = asn1.ObjectIdentifier{1, 3, 101, 112}

func (ed25519Scheme) Name() string               { return "Ed25519" }
func (ed25519Scheme) OID() asn1.ObjectIdentifier { return oidEd25519 }
func (ed25519Scheme) PublicKeySize() int         { return ed25519.PublicKeySize }
func (ed25519Scheme) SignatureSize() int         { return ed25519.SignatureSize }
func (ed25519Scheme) SeedSize() int              { return ed25519.SeedSize }

func (s ed25519Scheme) NewKeyFromSeed(seed []byte) (core.Signer, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("ed25519 seed: want %d bytes, got %d: %w", ed25519.SeedSize, len(seed), core.ErrInvalidInput)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	return ed25519Signer{priv: priv, pub: ed25519Public(priv.Public().(ed25519.PublicKey))}, nil
}

func (s ed25519Scheme) GenerateKey(r io.Reader) (core.Signer, error) {
	if r == nil {
		r = rand.Reader
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := io.ReadFull(r, seed); err != nil {
		return nil, fmt.Errorf("ed25519 keygen: %w", err)
	}
	return s.NewKeyFromSeed(seed)
}

func (ed25519Scheme) ParsePublicKey(b []byte) (core.PublicKey, error) {
	if len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("ed25519 public key: want %d bytes, got %d: %w", ed25519.PublicKeySize, len(b), core.ErrInvalidInput)
	}
	return ed25519Public(append([]byte(nil), b...)), nil
}

type ed25519Signer struct {
	priv ed25519.PrivateKey
	pub  ed25519Public
}

func (k ed25519Signer) Scheme() core.SignatureScheme { return Ed25519 }
func (k ed25519Signer) Public() core.PublicKey       { return k.pub }
func (k ed25519Signer) Seed() []byte                 { return append([]byte(nil), k.priv.Seed()...) }

func (k ed25519Signer) Sign(message, context []byte) ([]byte, error) {
	if len(context) > 255 {
		return nil, fmt.Errorf("ed25519 sign: context of %d bytes exceeds 255: %w", len(context), core.ErrInvalidInput)
	}
	return k.priv.Sign(nil, message, &ed25519.Options{Hash: crypto.Hash(0), Context: string(context)})
}

type ed25519Public ed25519.PublicKey

func (p ed25519Public) Scheme() core.SignatureScheme { return Ed25519 }
func (p ed25519Public) Bytes() []byte                { return append([]byte(nil), p...) }

func (p ed25519Public) Verify(message, context, sig []byte) bool {
	if len(context) > 255 {
		return false
	}
	return ed25519.VerifyWithOptions(ed25519.PublicKey(p), message, sig, &ed25519.Options{Context: string(context)}) == nil
}
