// Package coretest provides standard-library implementations of the core
// crypto ports (Ed25519 signatures, crypto/mlkem ML-KEM-768, AES-256-GCM) so
// that layers above core can be unit-tested without the post-quantum adapters.
// They are real, correct algorithms, not mocks, but they are not the
// production suite: use adapters/pqc outside tests.
package coretest
