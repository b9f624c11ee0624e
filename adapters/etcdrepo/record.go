package etcdrepo

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/snowmerak/clustering/core"
)

// recordVersion is the format version written in every record's "v" field.
const recordVersion = 1

// record is the stored form of a member, format version 1: one JSON object
// per etcd key. Readers reject any other version and ignore unknown fields,
// so optional fields can be added without a version bump. The member's
// Revision is not stored: it is the key's ModRevision.
//
//	{
//	  "v":      1,                     format version (required)
//	  "id":     "<64 lowercase hex>",  NodeID; must equal the key's suffix
//	  "region": "eu", "zone": "eu-1", "rack": "r7",
//	  "ip":     "10.0.0.7",            netip.Addr text form; absent when unset
//	  "port":   7000,
//	  "domain": "node-7.example",
//	  "weight": 1,                     ≥ 0
//	  "labels": {"k": "v"},            absent when empty
//	  "cert":   "<base64 DER>"         X.509 leaf whose key's NodeID is id
//	}
//
// encoding/json writes fields in this order and map keys sorted, so the same
// member always encodes to the same bytes.
type record struct {
	V           int               `json:"v"`
	ID          core.NodeID       `json:"id"`
	Region      string            `json:"region,omitempty"`
	Zone        string            `json:"zone,omitempty"`
	Rack        string            `json:"rack,omitempty"`
	IP          netip.Addr        `json:"ip,omitzero"`
	Port        uint16            `json:"port,omitempty"`
	Domain      string            `json:"domain,omitempty"`
	Weight      int               `json:"weight"`
	Labels      map[string]string `json:"labels,omitempty"`
	Certificate []byte            `json:"cert"`
}

// memberKey returns the etcd key of id under prefix: prefix + lowercase hex.
func memberKey(prefix string, id core.NodeID) string {
	return prefix + id.String()
}

// keyID parses the NodeID at the end of key, accepting only the canonical
// lowercase form so that one member never has two keys.
func keyID(prefix string, key []byte) (core.NodeID, error) {
	s, ok := strings.CutPrefix(string(key), prefix)
	if !ok {
		return core.NodeID{}, fmt.Errorf("key %q is not under prefix %q: %w", key, prefix, core.ErrInvalidInput)
	}
	id, err := core.ParseNodeID(s)
	if err != nil {
		return core.NodeID{}, fmt.Errorf("key %q: %w", key, err)
	}
	if id.String() != s {
		return core.NodeID{}, fmt.Errorf("key %q: node id not in lowercase hex: %w", key, core.ErrInvalidInput)
	}
	return id, nil
}

// validate reports why m cannot be stored: the rules of csvrepo (so the two
// repositories accept the same members), plus UTF-8 text, which JSON would
// otherwise alter silently.
func validate(m core.Member) error {
	if m.ID.IsZero() {
		return fmt.Errorf("zero member ID: %w", core.ErrInvalidInput)
	}
	if m.Weight < 0 {
		return fmt.Errorf("weight %d < 0: %w", m.Weight, core.ErrInvalidInput)
	}
	cert, err := x509.ParseCertificate(m.Certificate)
	if err != nil {
		return fmt.Errorf("certificate: %v: %w", err, core.ErrInvalidInput)
	}
	if id := core.NodeIDFromPublicKeyInfo(cert.RawSubjectPublicKeyInfo); id != m.ID {
		return fmt.Errorf("ID %s is not the certificate's NodeID %s: %w", m.ID.Short(), id.Short(), core.ErrInvalidInput)
	}
	for _, f := range [...]struct{ name, v string }{{"region", m.Region}, {"zone", m.Zone}, {"rack", m.Rack}, {"domain", m.Domain}} {
		if !utf8.ValidString(f.v) {
			return fmt.Errorf("%s %q is not UTF-8: %w", f.name, f.v, core.ErrInvalidInput)
		}
	}
	for k, v := range m.Labels {
		if k == "" {
			return fmt.Errorf("empty label key: %w", core.ErrInvalidInput)
		}
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("label %q=%q is not UTF-8: %w", k, v, core.ErrInvalidInput)
		}
	}
	return nil
}

// encodeMember validates m and returns its version 1 record.
func encodeMember(m core.Member) ([]byte, error) {
	if err := validate(m); err != nil {
		return nil, err
	}
	return json.Marshal(record{
		V:  recordVersion,
		ID: m.ID, Region: m.Region, Zone: m.Zone, Rack: m.Rack,
		IP: m.IP, Port: m.Port, Domain: m.Domain, Weight: m.Weight,
		Labels: m.Labels, Certificate: m.Certificate,
	})
}

// decodeMember parses the record stored under key at revision rev. Values in
// etcd are untrusted input (anyone with write access to the prefix can put
// bytes there), so it applies every rule Put applies; every error wraps
// core.ErrInvalidInput.
func decodeMember(prefix string, key, value []byte, rev int64) (core.Member, error) {
	id, err := keyID(prefix, key)
	if err != nil {
		return core.Member{}, err
	}
	var rec record
	if err := json.Unmarshal(value, &rec); err != nil { // also refuses data after the object
		return core.Member{}, fmt.Errorf("member %s: record: %v: %w", id.Short(), err, core.ErrInvalidInput)
	}
	if rec.V != recordVersion {
		return core.Member{}, fmt.Errorf("member %s: record version %d, want %d: %w", id.Short(), rec.V, recordVersion, core.ErrInvalidInput)
	}
	if rec.ID != id {
		return core.Member{}, fmt.Errorf("member %s: record names member %s: %w", id.Short(), rec.ID.Short(), core.ErrInvalidInput)
	}
	m := core.Member{
		ID: rec.ID, Region: rec.Region, Zone: rec.Zone, Rack: rec.Rack,
		IP: rec.IP, Port: rec.Port, Domain: rec.Domain, Weight: rec.Weight,
		Labels: rec.Labels, Certificate: rec.Certificate, Revision: rev,
	}
	if len(m.Labels) == 0 {
		m.Labels = nil
	}
	if err := validate(m); err != nil {
		return core.Member{}, fmt.Errorf("member %s: record: %w", id.Short(), err)
	}
	return m, nil
}
