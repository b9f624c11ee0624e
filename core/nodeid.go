package core

import (
	"crypto/sha256"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
)

// NodeIDSize is the length of a NodeID in bytes.
const NodeIDSize = sha256.Size

// NodeID names a node: the SHA-256 of its SubjectPublicKeyInfo DER. It depends
// only on the public key, so a renewed certificate for the same key keeps the ID.
type NodeID [NodeIDSize]byte

// NodeIDOf returns the NodeID of pub.
func NodeIDOf(pub PublicKey) NodeID {
	return sha256.Sum256(MarshalPublicKeyInfo(pub))
}

// NodeIDFromPublicKeyInfo returns the NodeID for a DER SubjectPublicKeyInfo.
func NodeIDFromPublicKeyInfo(spki []byte) NodeID {
	return sha256.Sum256(spki)
}

// ParseNodeID decodes the 64-character hex form that String returns.
func ParseNodeID(s string) (NodeID, error) {
	var id NodeID
	if len(s) != 2*NodeIDSize {
		return id, fmt.Errorf("node id %q: want %d hex characters, got %d: %w", s, 2*NodeIDSize, len(s), ErrInvalidInput)
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("node id %q: %v: %w", s, err, ErrInvalidInput)
	}
	return id, nil
}

// String returns the lowercase hex encoding of id.
func (id NodeID) String() string { return hex.EncodeToString(id[:]) }

// Short returns the first 8 bytes of id in hex, for logs.
func (id NodeID) Short() string { return hex.EncodeToString(id[:8]) }

// IsZero reports whether id is the zero value.
func (id NodeID) IsZero() bool { return id == NodeID{} }

// MarshalText implements encoding.TextMarshaler with the hex form.
func (id NodeID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with the hex form.
func (id *NodeID) UnmarshalText(b []byte) error {
	v, err := ParseNodeID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

type algorithmIdentifier struct {
	Algorithm asn1.ObjectIdentifier
}

type publicKeyInfo struct {
	Algorithm algorithmIdentifier
	PublicKey asn1.BitString
}

// MarshalPublicKeyInfo encodes pub as a DER SubjectPublicKeyInfo with absent
// algorithm parameters, the form RFC 9881 (ML-DSA) and RFC 8410 (Ed25519) use.
func MarshalPublicKeyInfo(pub PublicKey) []byte {
	raw := pub.Bytes()
	der, err := asn1.Marshal(publicKeyInfo{
		Algorithm: algorithmIdentifier{Algorithm: pub.Scheme().OID()},
		PublicKey: asn1.BitString{Bytes: raw, BitLength: 8 * len(raw)},
	})
	if err != nil {
		// Only an invalid OID (fewer than two arcs) can fail; schemes are fixed.
		panic("core: marshal public key info: " + err.Error())
	}
	return der
}
