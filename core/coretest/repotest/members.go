package repotest

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"fmt"
	"math/big"
	"net/netip"
	"testing"
	"time"

	"github.com/snowmerak/clustering/core"
)

// certEpoch is the fixed validity start of test certificates, so that the
// same seed always yields the same DER.
var certEpoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Identity is a test node's key and self-signed certificate.
type Identity struct {
	// Key is the node's Ed25519 private key.
	Key ed25519.PrivateKey
	// Certificate is the DER of a self-signed X.509 certificate for Key.
	Certificate []byte
	// ID is the NodeID of the certificate's SubjectPublicKeyInfo.
	ID core.NodeID
}

// NewIdentity returns a deterministic identity for seed i: the Ed25519 key is
// derived from i and the certificate (serial i, CN "node-i") is self-signed.
// The same i always gives the same key, and the same certificate for the same
// serial; use RenewIdentity for a second certificate of the same key.
func NewIdentity(t testing.TB, i int) Identity {
	t.Helper()
	return newIdentity(t, i, int64(i)+1)
}

// RenewIdentity returns a new certificate (different serial and validity) for
// the key of NewIdentity(t, i): its DER differs, its NodeID does not.
func RenewIdentity(t testing.TB, i int) Identity {
	t.Helper()
	return newIdentity(t, i, int64(i)+1<<40)
}

func newIdentity(t testing.TB, i int, serial int64) Identity {
	t.Helper()
	seed := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("repotest identity "), uint64(i)))
	key := ed25519.NewKeyFromSeed(seed[:])
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: fmt.Sprintf("node-%d", i)},
		NotBefore:    certEpoch.Add(time.Duration(serial) * time.Second),
		NotAfter:     certEpoch.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatalf("repotest: create certificate %d: %v", i, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("repotest: parse certificate %d: %v", i, err)
	}
	return Identity{Key: key, Certificate: der, ID: core.NodeIDFromPublicKeyInfo(cert.RawSubjectPublicKeyInfo)}
}

// NewMember returns a member for NewIdentity(t, i) with a topology, address
// and weight derived from i: Region "r<i%2>", Zone "z<i%3>", Rack "k<i%4>",
// IP 10.0.x.y, Port 7000+i, Domain "node-i.test", Weight 1+i%5 and a label.
// Revision is 0.
func NewMember(t testing.TB, i int) core.Member {
	t.Helper()
	id := NewIdentity(t, i)
	return core.Member{
		ID:          id.ID,
		Region:      fmt.Sprintf("r%d", i%2),
		Zone:        fmt.Sprintf("z%d", i%3),
		Rack:        fmt.Sprintf("k%d", i%4),
		IP:          netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}),
		Port:        uint16(7000 + i%50000),
		Domain:      fmt.Sprintf("node-%d.test", i),
		Weight:      1 + i%5,
		Labels:      map[string]string{"index": fmt.Sprint(i), "role": "test node"},
		Certificate: id.Certificate,
	}
}

// NewMembers returns NewMember(t, i) for i in [0, n).
func NewMembers(t testing.TB, n int) []core.Member {
	t.Helper()
	ms := make([]core.Member, n)
	for i := range ms {
		ms[i] = NewMember(t, i)
	}
	return ms
}

// Equal reports whether a and b hold the same record, ignoring Revision and
// treating a nil and an empty Labels map as equal. It returns a description
// of the first difference, or "" when they are equal.
func Equal(a, b core.Member) string {
	switch {
	case a.ID != b.ID:
		return fmt.Sprintf("ID %s != %s", a.ID.Short(), b.ID.Short())
	case a.Region != b.Region || a.Zone != b.Zone || a.Rack != b.Rack:
		return fmt.Sprintf("topology %s/%s/%s != %s/%s/%s", a.Region, a.Zone, a.Rack, b.Region, b.Zone, b.Rack)
	case a.IP != b.IP || a.Port != b.Port:
		return fmt.Sprintf("address %v != %v", a.Addr(), b.Addr())
	case a.Domain != b.Domain:
		return fmt.Sprintf("domain %q != %q", a.Domain, b.Domain)
	case a.Weight != b.Weight:
		return fmt.Sprintf("weight %d != %d", a.Weight, b.Weight)
	case string(a.Certificate) != string(b.Certificate):
		return "certificate differs"
	case len(a.Labels) != len(b.Labels):
		return fmt.Sprintf("labels %v != %v", a.Labels, b.Labels)
	}
	for k, v := range a.Labels {
		if w, ok := b.Labels[k]; !ok || w != v {
			return fmt.Sprintf("labels %v != %v", a.Labels, b.Labels)
		}
	}
	return ""
}
