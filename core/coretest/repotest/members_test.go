package repotest_test

import (
	"bytes"
	"testing"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest"
	"github.com/snowmerak/clustering/core/coretest/repotest"
)

func TestIdentityIDIsNodeIDOfItsKey(t *testing.T) {
	id := repotest.NewIdentity(t, 7)
	signer, err := coretest.Ed25519.NewKeyFromSeed(id.Key.Seed())
	if err != nil {
		t.Fatal(err)
	}
	if want := core.NodeIDOf(signer.Public()); id.ID != want {
		t.Fatalf("certificate NodeID %s, core.NodeIDOf %s", id.ID.Short(), want.Short())
	}
}

func TestIdentityIsDeterministicAndRenewalKeepsID(t *testing.T) {
	a, b := repotest.NewIdentity(t, 3), repotest.NewIdentity(t, 3)
	if !bytes.Equal(a.Certificate, b.Certificate) {
		t.Fatal("same seed gave different certificates")
	}
	r := repotest.RenewIdentity(t, 3)
	if bytes.Equal(r.Certificate, a.Certificate) || r.ID != a.ID {
		t.Fatal("renewal must change the certificate and keep the ID")
	}
	if repotest.NewIdentity(t, 4).ID == a.ID {
		t.Fatal("different seeds gave the same ID")
	}
}

func TestEqualReportsEachField(t *testing.T) {
	base := repotest.NewMember(t, 1)
	if d := repotest.Equal(base, base.Clone()); d != "" {
		t.Fatalf("clone differs: %s", d)
	}
	withRev := base
	withRev.Revision = 9
	if d := repotest.Equal(base, withRev); d != "" {
		t.Fatalf("Revision must be ignored: %s", d)
	}
	noLabels, emptyLabels := base, base
	noLabels.Labels, emptyLabels.Labels = nil, map[string]string{}
	if d := repotest.Equal(noLabels, emptyLabels); d != "" {
		t.Fatalf("nil and empty labels must be equal: %s", d)
	}
	mutations := map[string]func(m *core.Member){
		"ID":          func(m *core.Member) { m.ID[0] ^= 1 },
		"Zone":        func(m *core.Member) { m.Zone += "x" },
		"Port":        func(m *core.Member) { m.Port++ },
		"Domain":      func(m *core.Member) { m.Domain += "x" },
		"Weight":      func(m *core.Member) { m.Weight++ },
		"Certificate": func(m *core.Member) { m.Certificate = append([]byte{0}, m.Certificate...) },
		"LabelValue":  func(m *core.Member) { m.Labels["role"] = "other" },
		"LabelKey":    func(m *core.Member) { delete(m.Labels, "role"); m.Labels["rolf"] = "test node" },
	}
	for name, mutate := range mutations {
		m := base.Clone()
		mutate(&m)
		if repotest.Equal(base, m) == "" {
			t.Errorf("%s: difference not reported", name)
		}
	}
}

func TestFakeRepoContract(t *testing.T) {
	repotest.Run(t, func(t *testing.T) core.MemberRepo {
		r := repotest.NewRepo(64)
		t.Cleanup(func() { _ = r.Close() })
		return r
	})
}
