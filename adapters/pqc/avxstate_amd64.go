package pqc

import "golang.org/x/sys/cpu"

// circl's AVX2 assembly (v1.6.5: sign/internal/dilithium/amd64.s,
// pke/kyber/internal/common/amd64.s, simd/keccakf1600/f1600x4_amd64.s)
// returns without VZEROUPPER. The dirty upper YMM state then makes every later
// legacy-SSE instruction on the same thread pay a transition penalty: measured
// here, SHA-256 of 14 KB went from 13 µs to 18 ms after one ML-DSA-65 verify
// (BenchmarkSHA256AfterVerify). Transcript hashing, HKDF and AES-GCM all run
// right after signatures in a handshake, so every call into circl's ML-DSA, ML-KEM
// and X-Wing is followed by clearAVXState.

//go:noescape
func vzeroupper()

var hasAVX = cpu.X86.HasAVX

// clearAVXState zeroes the upper halves of the YMM registers.
func clearAVXState() {
	if hasAVX {
		vzeroupper()
	}
}
