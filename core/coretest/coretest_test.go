package coretest_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest"
)

func TestEd25519SignVerifyWithContext(t *testing.T) {
	k, err := coretest.Ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("transcript")
	for _, ctx := range [][]byte{nil, []byte("initiator")} {
		sig, err := k.Sign(msg, ctx)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := coretest.Ed25519.ParsePublicKey(k.Public().Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if !pub.Verify(msg, ctx, sig) {
			t.Fatalf("valid signature rejected (ctx %q)", ctx)
		}
		if pub.Verify(msg, []byte("responder"), sig) {
			t.Fatal("signature verified under another context")
		}
		sig[0] ^= 1
		if pub.Verify(msg, ctx, sig) {
			t.Fatal("tampered signature verified")
		}
	}
	if _, err := k.Sign(msg, make([]byte, 256)); !errors.Is(err, core.ErrInvalidInput) {
		t.Fatalf("256-byte context: %v", err)
	}
	if _, err := coretest.Ed25519.ParsePublicKey([]byte{1}); !errors.Is(err, core.ErrInvalidInput) {
		t.Fatalf("short key: %v", err)
	}
	if _, err := coretest.Ed25519.NewKeyFromSeed(nil); !errors.Is(err, core.ErrInvalidInput) {
		t.Fatalf("empty seed: %v", err)
	}
}

func TestMLKEMRoundTripAndBadInput(t *testing.T) {
	kem := coretest.MLKEM768
	dk, err := kem.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	ct, ss, err := kem.Encapsulate(nil, dk.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	if len(ct) != kem.CiphertextSize() || len(ss) != kem.SharedSecretSize() || len(dk.PublicKey()) != kem.PublicKeySize() {
		t.Fatal("sizes disagree with the scheme")
	}
	got, err := dk.Decapsulate(ct)
	if err != nil || !bytes.Equal(got, ss) {
		t.Fatalf("decapsulate: %v", err)
	}
	ct[5] ^= 1
	if got, err := dk.Decapsulate(ct); err != nil || bytes.Equal(got, ss) {
		t.Fatal("tampered ciphertext gave the same secret or an error")
	}
	if _, err := dk.Decapsulate(ct[:10]); !errors.Is(err, core.ErrInvalidInput) {
		t.Fatalf("short ciphertext: %v", err)
	}
	if _, _, err := kem.Encapsulate(nil, []byte{1, 2, 3}); !errors.Is(err, core.ErrInvalidInput) {
		t.Fatalf("short public key: %v", err)
	}
	if _, err := kem.NewKeyFromSeed([]byte{1}); !errors.Is(err, core.ErrInvalidInput) {
		t.Fatalf("short seed: %v", err)
	}
}

func TestAESGCM(t *testing.T) {
	a, err := coretest.AES256GCM.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, a.NonceSize())
	ct := a.Seal(nil, nonce, []byte("hello"), []byte("ad"))
	if _, err := a.Open(nil, nonce, ct, []byte("other")); err == nil {
		t.Fatal("opened with wrong associated data")
	}
	if _, err := coretest.AES256GCM.New(make([]byte, 16)); !errors.Is(err, core.ErrInvalidInput) {
		t.Fatalf("short key: %v", err)
	}
}
