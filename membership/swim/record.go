package swim

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/snowmerak/clustering/core"
)

// Record wire format (version 1), every integer big-endian:
//
//	version      u8   = 1
//	kind         u8   1 alive, 2 suspect, 3 dead, 4 leave
//	subject      [32] the NodeID the record is about
//	issuer       [32] the NodeID that signed it (= subject for alive and leave,
//	                  ≠ subject for suspect and dead)
//	incarnation  u64  alive/leave: the subject's own; suspect/dead: the
//	                  subject's incarnation the accuser holds
//	alive only:  meta (see appendMeta), credential (u16 length + bytes)
//	suspect and dead only: the accuser's own incarnation (u64) when it
//	             signed, which ties a verdict to the accuser's life: one made
//	             while the receiver held the accuser dead is partition hearsay
//	signature    u16 length + bytes: the issuer's signature over every byte
//	             above, with context recordContext
//
// A record's hash is SHA-256 of its whole encoding; its digest, the first 8
// bytes of the hash, names it in notices and pulls.

// recordContext separates record signatures from every other use of a node key.
var recordContext = []byte("clustering/swim/v1/record")

// Size limits of records.
const (
	recordVersion = 1
	// MaxCredentialSize bounds the credential an alive record carries.
	MaxCredentialSize = 16 << 10
	// MaxSignatureSize bounds a record signature (ML-DSA-87's is 4627 bytes).
	MaxSignatureSize = 8 << 10
	// recordHeaderSize is version, kind, subject, issuer and incarnation.
	recordHeaderSize = 1 + 1 + 2*core.NodeIDSize + 8
	// minRecordSize is the smallest encoding: header plus an empty signature.
	minRecordSize = recordHeaderSize + 2
)

// kind is a record's type.
type kind uint8

const (
	kindAlive   kind = 1
	kindSuspect kind = 2
	kindDead    kind = 3
	kindLeave   kind = 4
)

// rank orders kinds at one incarnation: alive < suspect < dead < leave.
func (k kind) rank() int { return int(k) - 1 }

func (k kind) valid() bool { return k >= kindAlive && k <= kindLeave }

// state is the member state a record of this kind establishes.
func (k kind) state() State {
	switch k {
	case kindSuspect:
		return StateSuspect
	case kindDead:
		return StateDead
	case kindLeave:
		return StateLeft
	}
	return StateAlive
}

func (k kind) String() string { return k.state().String() }

// key orders records about one subject: by incarnation, then kind.
type key struct {
	inc  uint64
	rank int
}

func (a key) less(b key) bool {
	if a.inc != b.inc {
		return a.inc < b.inc
	}
	return a.rank < b.rank
}

// digest names a record: the first 8 bytes of its hash.
type digest [8]byte

// record is one signed statement about a member.
type record struct {
	kind            kind
	subject, issuer core.NodeID
	inc             uint64
	meta            Meta   // alive only
	credential      []byte // alive only
	issuerInc       uint64 // suspect and dead only
	sig             []byte

	raw    []byte   // the whole encoding
	signed int      // raw[:signed] is what the signature covers
	hash   [32]byte // SHA-256 of raw
}

func (r *record) key() key           { return key{r.inc, r.kind.rank()} }
func (r *record) digest() digest     { return digest(r.hash[:8]) }
func (r *record) signedPart() []byte { return r.raw[:r.signed] }

func (r *record) notice() notice {
	return notice{subject: r.subject, kind: r.kind, inc: r.inc, digest: r.digest()}
}

// checkShape enforces who may sign which kind: a member speaks for itself in
// alive and leave records and accuses only others.
func checkShape(k kind, subject, issuer core.NodeID) error {
	if !k.valid() {
		return fmt.Errorf("record: unknown kind %d: %w", k, core.ErrInvalidInput)
	}
	self := k == kindAlive || k == kindLeave
	if self && subject != issuer {
		return fmt.Errorf("record: %s about %s signed by %s: a member speaks only for itself: %w", k, subject.Short(), issuer.Short(), core.ErrInvalidInput)
	}
	if !self && subject == issuer {
		return fmt.Errorf("record: %s of %s by itself: %w", k, subject.Short(), core.ErrInvalidInput)
	}
	return nil
}

// signRecord encodes and signs the statement t makes (its kind, subject,
// issuer, incarnations, and for alive its meta and credential). For
// accusations subject is the accused and signer the accuser's key.
func signRecord(signer core.Signer, t record) (*record, error) {
	k := t.kind
	if err := checkShape(k, t.subject, t.issuer); err != nil {
		return nil, err
	}
	b := make([]byte, 0, recordHeaderSize+64+len(t.credential)+2+signer.Scheme().SignatureSize())
	b = append(b, recordVersion, byte(k))
	b = append(b, t.subject[:]...)
	b = append(b, t.issuer[:]...)
	b = binary.BigEndian.AppendUint64(b, t.inc)
	switch k {
	case kindAlive:
		b = appendMeta(b, t.meta)
		b = appendBytes16(b, t.credential)
	case kindSuspect, kindDead:
		b = binary.BigEndian.AppendUint64(b, t.issuerInc)
	}
	signed := len(b)
	sig, err := signer.Sign(b, recordContext)
	if err != nil {
		return nil, fmt.Errorf("record: sign %s of %s: %w", k, t.subject.Short(), err)
	}
	if len(sig) > MaxSignatureSize {
		return nil, fmt.Errorf("record: %d-byte signature exceeds %d: %w", len(sig), MaxSignatureSize, core.ErrInvalidInput)
	}
	b = appendBytes16(b, sig)
	rec, err := decodeRecord(b)
	if err == nil && rec.signed != signed {
		err = fmt.Errorf("record: re-decoded signed length %d, want %d: %w", rec.signed, signed, core.ErrInvalidInput)
	}
	return rec, err
}

// decodeRecord parses a record from untrusted bytes, checking its structure
// (not its signature). The record keeps b, which the caller must not change.
func decodeRecord(b []byte) (*record, error) {
	r := &reader{b: b}
	if v := r.u8("record version"); r.err == nil && v != recordVersion {
		return nil, fmt.Errorf("record: version %d: %w", v, core.ErrInvalidInput)
	}
	rec := &record{kind: kind(r.u8("record kind"))}
	rec.subject = r.nodeID("record subject")
	rec.issuer = r.nodeID("record issuer")
	rec.inc = r.u64("record incarnation")
	if r.err != nil {
		return nil, fmt.Errorf("record: %w", r.err)
	}
	if err := checkShape(rec.kind, rec.subject, rec.issuer); err != nil {
		return nil, err
	}
	switch rec.kind {
	case kindAlive:
		rec.meta = readMeta(r)
		rec.credential = r.bytes16("record credential", MaxCredentialSize)
	case kindSuspect, kindDead:
		rec.issuerInc = r.u64("record issuer incarnation")
	}
	rec.signed = len(b) - len(r.b)
	rec.sig = r.bytes16("record signature", MaxSignatureSize)
	if err := r.done("record"); err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	rec.raw = b
	rec.hash = sha256.Sum256(b)
	return rec, nil
}
