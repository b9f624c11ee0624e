package transport

import (
	"encoding/binary"
	"fmt"

	"github.com/snowmerak/clustering/core"
)

// certKind says how a handshake payload names its sender's chain.
type certKind uint8

const (
	certChain     certKind = 0 // the chain's DER certificates, leaf first
	certReference certKind = 1 // the fingerprint of a chain the peer holds
)

// intent says what an initiator's handshake is for.
type intent uint8

const (
	intentNew   intent = 0 // a new session
	intentRekey intent = 1 // fresh keys for the session named by sessionID
)

// identity is the part of a handshake payload that names the sender:
//
//	[initiator only: intent u8 | sessionID [8]]
//	kind u8 | chain: count u8, (len u16 | der)*count  |  reference: fingerprint [32]
type identity struct {
	intent    intent
	sessionID [sessionIDSize]byte
	kind      certKind
	chain     [][]byte
	reference [fingerprintSize]byte
}

func (id *identity) marshal(initiator bool) []byte {
	var b []byte
	if initiator {
		b = append(b, byte(id.intent))
		b = append(b, id.sessionID[:]...)
	}
	b = append(b, byte(id.kind))
	if id.kind == certReference {
		return append(b, id.reference[:]...)
	}
	b = append(b, byte(len(id.chain)))
	for _, der := range id.chain {
		b = binary.BigEndian.AppendUint16(b, uint16(len(der)))
		b = append(b, der...)
	}
	return b
}

// handshakePayload is the sealed part of M2 (responder) or M3 (initiator):
//
//	identity | sigLen u16 | signature | finished [32]
type handshakePayload struct {
	id       identity
	idBytes  []byte // the encoded identity, as hashed into the transcript
	sig      []byte
	finished [finishedSize]byte
}

// parsePayload decodes a handshake payload strictly.
func parsePayload(b []byte, initiator bool) (*handshakePayload, error) {
	r := reader{b: b, what: "handshake payload"}
	p := &handshakePayload{}
	if initiator {
		p.id.intent = intent(r.u8())
		r.copy(p.id.sessionID[:])
		if r.err == nil && p.id.intent != intentNew && p.id.intent != intentRekey {
			return nil, fmt.Errorf("handshake payload: intent %d: %w", p.id.intent, core.ErrInvalidInput)
		}
	}
	p.id.kind = certKind(r.u8())
	switch p.id.kind {
	case certReference:
		r.copy(p.id.reference[:])
	case certChain:
		n := int(r.u8())
		if r.err == nil && (n == 0 || n > maxChainCerts) {
			return nil, fmt.Errorf("handshake payload: chain of %d certificates (1..%d): %w", n, maxChainCerts, core.ErrInvalidInput)
		}
		for range n {
			der := r.bytes(int(r.u16()))
			if r.err == nil && len(der) == 0 {
				return nil, fmt.Errorf("handshake payload: empty certificate: %w", core.ErrInvalidInput)
			}
			p.id.chain = append(p.id.chain, der)
		}
	default:
		if r.err == nil {
			return nil, fmt.Errorf("handshake payload: certificate kind %d: %w", p.id.kind, core.ErrInvalidInput)
		}
	}
	p.idBytes = b[:r.off]
	p.sig = r.bytes(int(r.u16()))
	r.copy(p.finished[:])
	if err := r.done(); err != nil {
		return nil, err
	}
	if len(p.sig) == 0 {
		return nil, fmt.Errorf("handshake payload: empty signature: %w", core.ErrInvalidInput)
	}
	return p, nil
}

// marshalPayload concatenates the encoded identity, signature and Finished MAC.
func marshalPayload(idBytes, sig []byte, finished []byte) []byte {
	b := make([]byte, 0, len(idBytes)+2+len(sig)+len(finished))
	b = append(b, idBytes...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(sig)))
	b = append(b, sig...)
	return append(b, finished...)
}

// payloadSize predicts the sealed payload's plaintext size without building it.
func payloadSize(idLen, sigLen int) int { return idLen + 2 + sigLen + finishedSize }
