package core_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"strings"
	"testing"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest"
)

func TestNodeIDRoundTrip(t *testing.T) {
	signer, err := coretest.Ed25519.NewKeyFromSeed(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	id := core.NodeIDOf(signer.Public())
	got, err := core.ParseNodeID(id.String())
	if err != nil || got != id {
		t.Fatalf("ParseNodeID(String()) = %v, %v; want %v", got, err, id)
	}
	if id.IsZero() || !(core.NodeID{}).IsZero() {
		t.Fatal("IsZero wrong")
	}
	if !strings.HasPrefix(id.String(), id.Short()) || len(id.Short()) != 16 {
		t.Fatalf("Short() = %q", id.Short())
	}
	var u core.NodeID
	text, _ := id.MarshalText()
	if err := u.UnmarshalText(text); err != nil || u != id {
		t.Fatalf("UnmarshalText: %v %v", u, err)
	}
}

// The SPKI encoding must match what crypto/x509 produces for the same key, so
// NodeIDs computed from certificates and from keys agree.
func TestMarshalPublicKeyInfoMatchesX509(t *testing.T) {
	signer, err := coretest.Ed25519.NewKeyFromSeed([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	want, err := x509.MarshalPKIXPublicKey(ed25519.PublicKey(signer.Public().Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	got := core.MarshalPublicKeyInfo(signer.Public())
	if string(got) != string(want) {
		t.Fatalf("SPKI mismatch:\n got %x\nwant %x", got, want)
	}
	if core.NodeIDOf(signer.Public()) != core.NodeIDFromPublicKeyInfo(want) || core.NodeIDFromPublicKeyInfo(want) != sha256.Sum256(want) {
		t.Fatal("NodeID is not SHA-256 of the SPKI")
	}
}

func TestParseNodeIDRejectsBadInput(t *testing.T) {
	for _, in := range []string{"", "abc", strings.Repeat("z", 64), strings.Repeat("a", 63), strings.Repeat("a", 66)} {
		if _, err := core.ParseNodeID(in); !errors.Is(err, core.ErrInvalidInput) {
			t.Errorf("ParseNodeID(%q) error = %v, want ErrInvalidInput", in, err)
		}
	}
}
