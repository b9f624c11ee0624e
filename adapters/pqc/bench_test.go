package pqc

import (
	"bytes"
	"crypto/mlkem"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core"
)

// Benchmarks report, next to ns/op, a ratio against a baseline measured in
// the same run: "x-faster" (baseline time ÷ this time) for the public key
// cache, "x-stdlib" (this time ÷ Go's crypto/mlkem ML-KEM-768) for KEMs and
// "x-aesgcm" (this time ÷ AES-256-GCM) for AEADs. A ratio is left out when
// its baseline did not run (a -bench filter that skips it).

// nsPerOp is the time per iteration of a finished b.Loop.
func nsPerOp(b *testing.B) float64 {
	return float64(b.Elapsed().Nanoseconds()) / float64(b.N)
}

// reportRatio reports num/den under unit when both were measured.
func reportRatio(b *testing.B, num, den float64, unit string) {
	if num > 0 && den > 0 {
		b.ReportMetric(num/den, unit)
	}
}

func BenchmarkMLDSA(b *testing.B) {
	for _, s := range SignatureSchemes() {
		b.Run(s.Name(), func(b *testing.B) { benchMLDSA(b, s.(*mldsaScheme)) })
	}
}

func benchMLDSA(b *testing.B, s *mldsaScheme) {
	seed := bytes.Repeat([]byte{1}, seedSize)
	key, err := s.NewKeyFromSeed(seed)
	require.NoError(b, err)
	msg := bytes.Repeat([]byte{2}, 32) // a transcript hash
	ctx := []byte("responder")
	sig, err := key.Sign(msg, ctx)
	require.NoError(b, err)
	raw := key.Public().Bytes()
	deterministic, err := Deterministic(s).NewKeyFromSeed(seed)
	require.NoError(b, err)

	cold := WithPublicKeyCache(s, 0)
	cached := WithPublicKeyCache(s, 16)
	warm, err := cached.ParsePublicKey(raw)
	require.NoError(b, err)
	require.True(b, warm.Verify(msg, ctx, sig)) // expands and fills the cache

	b.Run("KeyGen", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.NewKeyFromSeed(seed); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Sign", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := key.Sign(msg, ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("SignDeterministic", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := deterministic.Sign(msg, ctx); err != nil {
				b.Fatal(err)
			}
		}
	})

	var parseCold, verifyCold float64
	b.Run("ParsePublicKey/lazy", func(b *testing.B) { // copy only, expansion deferred
		b.ReportAllocs()
		for b.Loop() {
			mustParse(b, cold, raw)
		}
	})
	b.Run("ParsePublicKey/cold", func(b *testing.B) { // parse and expand: circl's unpack
		b.ReportAllocs()
		for b.Loop() {
			mustParse(b, cold, raw).key.verifier()
		}
		parseCold = nsPerOp(b)
	})
	b.Run("ParsePublicKey/cached", func(b *testing.B) { // a cache hit, already expanded
		b.ReportAllocs()
		for b.Loop() {
			mustParse(b, cached, raw).key.verifier()
		}
		reportRatio(b, parseCold, nsPerOp(b), "x-faster")
	})
	b.Run("Verify/held-key", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !warm.Verify(msg, ctx, sig) {
				b.Fatal("verify failed")
			}
		}
	})
	b.Run("Verify/cold-parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !mustParse(b, cold, raw).Verify(msg, ctx, sig) {
				b.Fatal("verify failed")
			}
		}
		verifyCold = nsPerOp(b)
	})
	b.Run("Verify/cached-parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !mustParse(b, cached, raw).Verify(msg, ctx, sig) {
				b.Fatal("verify failed")
			}
		}
		reportRatio(b, verifyCold, nsPerOp(b), "x-faster")
	})
}

func mustParse(b *testing.B, s core.SignatureScheme, raw []byte) *mldsaPublicKey {
	p, err := s.ParsePublicKey(raw)
	if err != nil {
		b.Fatal(err)
	}
	return p.(*mldsaPublicKey)
}

func BenchmarkKEM(b *testing.B) {
	baseline := map[string]float64{}
	b.Run("stdlib-ML-KEM-768", func(b *testing.B) { benchStdlibMLKEM(b, baseline) })
	for _, k := range []core.KEM{XWing, MLKEM768, MLKEM1024} {
		b.Run(k.Name(), func(b *testing.B) { benchKEM(b, k, baseline) })
	}
}

// benchStdlibMLKEM measures Go's crypto/mlkem doing what the port does:
// derive from a seed, parse the peer's key and encapsulate, decapsulate.
func benchStdlibMLKEM(b *testing.B, baseline map[string]float64) {
	seed := bytes.Repeat([]byte{1}, mlkem.SeedSize)
	dk, err := mlkem.NewDecapsulationKey768(seed)
	require.NoError(b, err)
	pk := dk.EncapsulationKey().Bytes()
	_, ct := dk.EncapsulationKey().Encapsulate()
	b.Run("KeyGen", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := mlkem.NewDecapsulationKey768(seed); err != nil {
				b.Fatal(err)
			}
		}
		baseline["KeyGen"] = nsPerOp(b)
	})
	b.Run("Encapsulate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ek, err := mlkem.NewEncapsulationKey768(pk)
			if err != nil {
				b.Fatal(err)
			}
			ek.Encapsulate()
		}
		baseline["Encapsulate"] = nsPerOp(b)
	})
	b.Run("Decapsulate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := dk.Decapsulate(ct); err != nil {
				b.Fatal(err)
			}
		}
		baseline["Decapsulate"] = nsPerOp(b)
	})
}

func benchKEM(b *testing.B, k core.KEM, baseline map[string]float64) {
	seed := bytes.Repeat([]byte{1}, k.SeedSize())
	dk, err := k.NewKeyFromSeed(seed)
	require.NoError(b, err)
	pk := dk.PublicKey()
	ct, _, err := k.Encapsulate(nil, pk)
	require.NoError(b, err)
	b.Run("KeyGen", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := k.NewKeyFromSeed(seed); err != nil {
				b.Fatal(err)
			}
		}
		reportRatio(b, nsPerOp(b), baseline["KeyGen"], "x-stdlib")
	})
	b.Run("Encapsulate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := k.Encapsulate(nil, pk); err != nil {
				b.Fatal(err)
			}
		}
		reportRatio(b, nsPerOp(b), baseline["Encapsulate"], "x-stdlib")
	})
	b.Run("Decapsulate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := dk.Decapsulate(ct); err != nil {
				b.Fatal(err)
			}
		}
		reportRatio(b, nsPerOp(b), baseline["Decapsulate"], "x-stdlib")
	})
}

func BenchmarkAEAD(b *testing.B) {
	baseline := map[string]float64{}
	for _, a := range []core.AEAD{AES256GCM, ChaCha20Poly1305, XChaCha20Poly1305} {
		b.Run(a.Name(), func(b *testing.B) {
			c, err := a.New(bytes.Repeat([]byte{1}, a.KeySize()))
			require.NoError(b, err)
			nonce := make([]byte, c.NonceSize())
			ad := make([]byte, 13) // a record header
			for _, size := range []int{64, 1024, 16384} {
				msg := make([]byte, size)
				sealed := c.Seal(nil, nonce, msg, ad)
				dst := make([]byte, 0, size+c.Overhead())
				name := fmt.Sprintf("%dB", size)
				b.Run("Seal/"+name, func(b *testing.B) {
					b.SetBytes(int64(size))
					b.ReportAllocs()
					for b.Loop() {
						c.Seal(dst[:0], nonce, msg, ad)
					}
					recordOrCompare(b, a, baseline, "Seal/"+name)
				})
				b.Run("Open/"+name, func(b *testing.B) {
					b.SetBytes(int64(size))
					b.ReportAllocs()
					for b.Loop() {
						if _, err := c.Open(dst[:0], nonce, sealed, ad); err != nil {
							b.Fatal(err)
						}
					}
					recordOrCompare(b, a, baseline, "Open/"+name)
				})
			}
		})
	}
}

// recordOrCompare stores AES-256-GCM's time as the baseline for op, or
// reports another AEAD's time relative to it.
func recordOrCompare(b *testing.B, a core.AEAD, baseline map[string]float64, op string) {
	if a == AES256GCM {
		baseline[op] = nsPerOp(b)
		return
	}
	reportRatio(b, nsPerOp(b), baseline[op], "x-aesgcm")
}
