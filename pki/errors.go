package pki

import (
	"fmt"

	"github.com/snowmerak/clustering/core"
)

// Sentinel errors. Parse errors wrap core.ErrInvalidInput and verification
// errors wrap core.ErrVerification, so callers may test either level with
// errors.Is.
var (
	// ErrMalformed reports bytes that are not a well-formed certificate, key,
	// request or revocation list.
	ErrMalformed = fmt.Errorf("malformed: %w", core.ErrInvalidInput)
	// ErrUnknownAlgorithm reports an algorithm identifier that none of the
	// given signature schemes has, or one with parameters where none belong.
	ErrUnknownAlgorithm = fmt.Errorf("unknown algorithm: %w", core.ErrInvalidInput)
	// ErrWrongPEMType reports a PEM block of another type than the one expected.
	ErrWrongPEMType = fmt.Errorf("wrong PEM type: %w", core.ErrInvalidInput)
	// ErrPasswordRequired reports an encrypted key read without a password.
	ErrPasswordRequired = fmt.Errorf("encrypted private key needs a password: %w", core.ErrInvalidInput)
	// ErrWrongPassword reports an encrypted key that the password does not open.
	ErrWrongPassword = fmt.Errorf("wrong password (or corrupted key file): %w", core.ErrVerification)
	// ErrKeyMismatch reports a private key that does not belong to a certificate.
	ErrKeyMismatch = fmt.Errorf("private key does not match certificate: %w", core.ErrInvalidInput)

	// ErrExpired reports a certificate whose NotAfter is before the verification time.
	ErrExpired = fmt.Errorf("certificate expired: %w", core.ErrVerification)
	// ErrNotYetValid reports a certificate whose NotBefore is after the verification time.
	ErrNotYetValid = fmt.Errorf("certificate not yet valid: %w", core.ErrVerification)
	// ErrNotCA reports an issuer without the CA flag or without keyUsage certSign.
	ErrNotCA = fmt.Errorf("issuer is not a CA: %w", core.ErrVerification)
	// ErrPathLen reports more intermediates below a CA than its pathLen allows.
	ErrPathLen = fmt.Errorf("path length constraint exceeded: %w", core.ErrVerification)
	// ErrUnknownAuthority reports a chain that does not end at a trusted root.
	ErrUnknownAuthority = fmt.Errorf("certificate signed by unknown authority: %w", core.ErrVerification)
	// ErrIssuerMismatch reports a certificate whose issuer name or authority key
	// identifier differs from the next certificate's subject or key identifier.
	ErrIssuerMismatch = fmt.Errorf("issuer does not match: %w", core.ErrVerification)
	// ErrBadSignature reports a signature that does not verify under the issuer's key.
	ErrBadSignature = fmt.Errorf("bad signature: %w", core.ErrVerification)
	// ErrRevoked reports a certificate listed in a trusted revocation list.
	ErrRevoked = fmt.Errorf("certificate revoked: %w", core.ErrVerification)
	// ErrKeyUsage reports a leaf that lacks a required extended key usage.
	ErrKeyUsage = fmt.Errorf("key usage not permitted: %w", core.ErrVerification)
	// ErrNameMismatch reports a leaf that lacks the DNS name, URI or IP asked for.
	ErrNameMismatch = fmt.Errorf("name not in certificate: %w", core.ErrVerification)
	// ErrNameConstraint reports a name outside an issuer's name constraints.
	ErrNameConstraint = fmt.Errorf("name constraint violated: %w", core.ErrVerification)
	// ErrUnhandledCritical reports a critical extension this package does not process.
	ErrUnhandledCritical = fmt.Errorf("unhandled critical extension: %w", core.ErrVerification)
)

// CertificateError says which certificate of a chain failed and why. Err
// wraps one of the sentinel errors above.
type CertificateError struct {
	// Index is the certificate's position: 0 is the leaf; the trusted root,
	// when it was taken from the trust store, has index len(chain).
	Index int
	// Subject is the certificate's subject in RFC 2253 form.
	Subject string
	// Err is the reason.
	Err error
}

// Error returns "certificate <index> (<subject>): <reason>".
func (e *CertificateError) Error() string {
	return fmt.Sprintf("certificate %d (%s): %v", e.Index, e.Subject, e.Err)
}

// Unwrap returns the reason.
func (e *CertificateError) Unwrap() error { return e.Err }

func certError(i int, c *Certificate, err error) error {
	return &CertificateError{Index: i, Subject: c.Subject.String(), Err: err}
}
