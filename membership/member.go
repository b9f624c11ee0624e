// Package membership keeps the cluster's member list and places keys on
// members.
//
// A [Store] mirrors a core.MemberRepo (memory, CSV file or etcd): it lists
// the repository once, follows its watch, and publishes an immutable snapshot
// per revision that readers load without locks. It keeps the seed's API: add,
// remove, get by ID or certificate, list sorted by Region > Zone > Rack > ID,
// find by region, zone or rack. Each snapshot carries a [Placement]: weighted
// rendezvous hashing precomputed into partition tables, so that Owner(key)
// and Owners(key, n) cost one xxh3 hash and a table index, with minimal key
// movement when members join or leave and replicas spread over zones.
//
// A member's ID is the NodeID of its certificate's public key, read with
// crypto/x509 (which parses ML-DSA certificates as well, reporting their
// algorithm as unknown), so a renewed certificate keeps the member's ID.
package membership

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/netip"

	"github.com/snowmerak/clustering/core"
)

// NewMember makes a member record from a certificate (DER, or PEM
// "CERTIFICATE") and its place and capacity. Its ID is the NodeID of the
// certificate's public key; a weight ≤ 0 becomes 1.
func NewMember(cert []byte, region, zone, rack string, ip netip.Addr, domain string, weight int) (core.Member, error) {
	der, id, err := parseCertificate(cert)
	if err != nil {
		return core.Member{}, fmt.Errorf("membership: new member: %w", err)
	}
	return core.Member{
		ID:          id,
		Region:      region,
		Zone:        zone,
		Rack:        rack,
		IP:          ip,
		Domain:      domain,
		Weight:      max(weight, 1),
		Certificate: der,
	}, nil
}

// NodeIDOfCertificate returns the NodeID of a certificate (DER or PEM).
func NodeIDOfCertificate(cert []byte) (core.NodeID, error) {
	_, id, err := parseCertificate(cert)
	return id, err
}

func parseCertificate(cert []byte) ([]byte, core.NodeID, error) {
	der := cert
	if block, _ := pem.Decode(cert); block != nil {
		if block.Type != "CERTIFICATE" {
			return nil, core.NodeID{}, fmt.Errorf("certificate: PEM block %q: %w", block.Type, core.ErrInvalidInput)
		}
		der = block.Bytes
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, core.NodeID{}, fmt.Errorf("certificate: %v: %w", err, core.ErrInvalidInput)
	}
	return der, core.NodeIDFromPublicKeyInfo(c.RawSubjectPublicKeyInfo), nil
}
