// Package pki is the cluster's public-key infrastructure: X.509 v3
// certificates whose keys and signatures are ML-DSA as RFC 9881 defines them
// (pure ML-DSA-44/65/87, parameters absent, signatures over the DER
// TBSCertificate with an empty context), their keys, PEM files, chain
// verification against a trust store, and signed revocation lists.
//
// The package imports core and the standard library only: signature schemes
// come in as []core.SignatureScheme (adapters/pqc supplies ML-DSA,
// core/coretest an Ed25519 double for tests), and scrypt for encrypted keys
// comes in as a ScryptFunc.
//
// How the pieces fit:
//
//   - NewRoot makes a self-signed root; Issue signs an intermediate or a leaf
//     for a public key, which may come from a node's PUBLIC KEY file or a
//     verified CertificateRequest, so a node's private key never leaves it.
//   - ParseCertificate reads DER through crypto/x509 (so every certificate
//     this package accepts is one standard tools read the same way) and then
//     maps the key and signature algorithms to schemes.
//   - MarshalPrivateKey / ParsePrivateKey use PKCS#8 with the RFC 9881 seed
//     form; EncryptPrivateKey wraps it in PBES2 with scrypt and AES-256-GCM.
//   - TrustStore holds roots and revocation lists; Verify checks a chain and
//     ParseChain reuses parsed CA certificates so their keys are parsed once.
//     A bounded memo of certificate signatures that verified spares a chain
//     seen again its signature checks (never its other rules).
//   - RevocationList revokes certificates by issuer and serial or by
//     fingerprint; its format is documented in revocation.go.
//   - WriteNewFiles writes key and certificate files together or not at all,
//     never replacing existing files.
//
// NodeID (SHA-256 of the SubjectPublicKeyInfo) names a node across
// certificate renewals; Fingerprint (SHA-256 of the DER) names one certificate.
package pki
