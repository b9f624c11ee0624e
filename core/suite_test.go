package core_test

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest"
)

func TestSuiteIDAndLookup(t *testing.T) {
	s := coretest.Suite()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if got, want := s.ID(), uint32(0x0041_0002); got != want {
		t.Fatalf("ID() = %#x, want %#x", got, want)
	}
	if sc, ok := s.SchemeByOID(coretest.Ed25519.OID()); !ok || sc != coretest.Ed25519 {
		t.Fatal("SchemeByOID did not find Ed25519")
	}
	if _, ok := core.SchemeByName(s.Signatures, "ed25519"); !ok {
		t.Fatal("SchemeByName is case-sensitive")
	}
	if _, ok := core.SchemeByName(s.Signatures, "ML-DSA-65"); ok {
		t.Fatal("SchemeByName found a scheme the suite lacks")
	}
}

func TestSuiteValidateRejectsIncomplete(t *testing.T) {
	for name, s := range map[string]core.Suite{
		"no KEM":        {AEAD: coretest.AES256GCM, Signatures: []core.SignatureScheme{coretest.Ed25519}},
		"no AEAD":       {KEM: coretest.MLKEM768, Signatures: []core.SignatureScheme{coretest.Ed25519}},
		"no signatures": {KEM: coretest.MLKEM768, AEAD: coretest.AES256GCM},
	} {
		if err := s.Validate(); !errors.Is(err, core.ErrInvalidInput) {
			t.Errorf("%s: Validate() = %v, want ErrInvalidInput", name, err)
		}
	}
}

func TestMemberCloneIsDeep(t *testing.T) {
	m := core.Member{Labels: map[string]string{"a": "b"}, Certificate: []byte{1, 2}, IP: netip.MustParseAddr("10.0.0.1"), Port: 7946}
	c := m.Clone()
	c.Labels["a"] = "x"
	c.Certificate[0] = 9
	if m.Labels["a"] != "b" || m.Certificate[0] != 1 {
		t.Fatal("Clone shares storage with the original")
	}
	if m.Addr().String() != "10.0.0.1:7946" || (core.Member{}).Addr().IsValid() {
		t.Fatalf("Addr() = %v", m.Addr())
	}
}
