package core

import (
	"encoding/asn1"
	"fmt"
	"strings"
)

// Suite bundles the algorithms two nodes must agree on: one KEM for the
// handshake, the signature schemes accepted in certificates, and one AEAD for
// records. Its wire identifier is derived from the KEM and AEAD identifiers, so
// two suites that differ in either cannot be confused.
type Suite struct {
	// Name is a human-readable label, e.g. "default" or "cnsa2".
	Name string
	// KEM is the key exchange used by every handshake.
	KEM KEM
	// Signatures lists the accepted signature schemes, preferred first.
	Signatures []SignatureScheme
	// AEAD protects handshake payloads and records.
	AEAD AEAD
}

// ID is the suite's wire identifier: the KEM ID in the high 16 bits and the
// AEAD ID in the low 16 bits.
func (s Suite) ID() uint32 {
	return uint32(s.KEM.ID())<<16 | uint32(s.AEAD.ID())
}

// Validate reports a suite that lacks a KEM, an AEAD or a signature scheme.
func (s Suite) Validate() error {
	switch {
	case s.KEM == nil:
		return fmt.Errorf("suite %q: no KEM: %w", s.Name, ErrInvalidInput)
	case s.AEAD == nil:
		return fmt.Errorf("suite %q: no AEAD: %w", s.Name, ErrInvalidInput)
	case len(s.Signatures) == 0:
		return fmt.Errorf("suite %q: no signature scheme: %w", s.Name, ErrInvalidInput)
	}
	return nil
}

// SchemeByOID returns the accepted signature scheme with the given OID.
func (s Suite) SchemeByOID(oid asn1.ObjectIdentifier) (SignatureScheme, bool) {
	return SchemeByOID(s.Signatures, oid)
}

// SchemeByOID returns the scheme in schemes with the given OID.
func SchemeByOID(schemes []SignatureScheme, oid asn1.ObjectIdentifier) (SignatureScheme, bool) {
	for _, sc := range schemes {
		if sc.OID().Equal(oid) {
			return sc, true
		}
	}
	return nil, false
}

// SchemeByName returns the scheme in schemes whose Name matches name, ignoring case.
func SchemeByName(schemes []SignatureScheme, name string) (SignatureScheme, bool) {
	for _, sc := range schemes {
		if strings.EqualFold(sc.Name(), name) {
			return sc, true
		}
	}
	return nil, false
}
