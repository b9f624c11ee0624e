package pqc_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/adapters/pqc"
	"github.com/snowmerak/clustering/core"
)

// hexBytes is a byte string that JSON carries as hex.
type hexBytes []byte

func (h *hexBytes) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := hex.DecodeString(s)
	*h = v
	return err
}

// pqVectors is testdata/pq-vectors.json, made by @noble/post-quantum (an
// implementation independent of circl; see /work/shared/vectors/README.md).
type pqVectors struct {
	Generator string `json:"generator"`
	MLDSA     []struct {
		Scheme            string   `json:"scheme"`
		Seed              hexBytes `json:"seed"`
		PublicKey         hexBytes `json:"publicKey"`
		Message           hexBytes `json:"message"`
		Context           string   `json:"context"` // UTF-8, not hex
		Signature         hexBytes `json:"signature"`
		TamperedSignature hexBytes `json:"tamperedSignature"`
	} `json:"mldsa"`
	MLKEM []struct {
		Scheme                  string   `json:"scheme"`
		Seed                    hexBytes `json:"seed"`
		EncapsulationKey        hexBytes `json:"encapsulationKey"`
		EncapsulationRandomness hexBytes `json:"encapsulationRandomness"`
		Ciphertext              hexBytes `json:"ciphertext"`
		SharedSecret            hexBytes `json:"sharedSecret"`
		TamperedCiphertext      hexBytes `json:"tamperedCiphertext"`
		TamperedSharedSecret    hexBytes `json:"tamperedSharedSecret"`
	} `json:"mlkem"`
	XWing []struct {
		Scheme                  string   `json:"scheme"`
		Seed                    hexBytes `json:"seed"`
		EncapsulationKey        hexBytes `json:"encapsulationKey"`
		EncapsulationRandomness hexBytes `json:"encapsulationRandomness"`
		Ciphertext              hexBytes `json:"ciphertext"`
		SharedSecret            hexBytes `json:"sharedSecret"`
	} `json:"xwing"`
}

// loadVectors fails the test when the file is missing, malformed, or lacks
// vectors for any scheme this package implements.
func loadVectors(t *testing.T) pqVectors {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "pq-vectors.json"))
	require.NoError(t, err, "vector file is required")
	var v pqVectors
	require.NoError(t, json.Unmarshal(raw, &v))
	require.NotEmpty(t, v.MLDSA, "no ML-DSA vectors")
	require.NotEmpty(t, v.MLKEM, "no ML-KEM vectors")
	require.NotEmpty(t, v.XWing, "no X-Wing vectors")

	seen := map[string]int{}
	withContext := map[string]int{}
	for _, x := range v.MLDSA {
		seen[x.Scheme]++
		if x.Context != "" {
			withContext[x.Scheme]++
		}
	}
	for _, x := range v.MLKEM {
		seen[x.Scheme]++
	}
	for _, x := range v.XWing {
		seen[x.Scheme]++
	}
	for _, name := range []string{"ML-DSA-44", "ML-DSA-65", "ML-DSA-87", "ML-KEM-768", "ML-KEM-1024", "X-Wing"} {
		require.Positive(t, seen[name], "no vectors for %s", name)
	}
	for _, name := range []string{"ML-DSA-44", "ML-DSA-65", "ML-DSA-87"} {
		require.Positive(t, withContext[name], "no %s vector with a context", name)
		require.Less(t, withContext[name], seen[name], "no %s vector without a context", name)
	}
	return v
}

func kemByName(t *testing.T, name string) core.KEM {
	t.Helper()
	for _, k := range []core.KEM{pqc.XWing, pqc.MLKEM768, pqc.MLKEM1024} {
		if k.Name() == name {
			return k
		}
	}
	require.FailNow(t, "unknown KEM in vectors", name)
	return nil
}

func TestVectorsMLDSAReproduceNoble(t *testing.T) {
	v := loadVectors(t)
	for i, x := range v.MLDSA {
		t.Run(fmt.Sprintf("%s/%d/context=%q", x.Scheme, i, x.Context), func(t *testing.T) {
			scheme, ok := core.SchemeByName(pqc.SignatureSchemes(), x.Scheme)
			require.True(t, ok, "unknown scheme %s", x.Scheme)
			ctx := []byte(x.Context)

			key, err := pqc.Deterministic(scheme).NewKeyFromSeed(x.Seed)
			require.NoError(t, err)
			require.Equal(t, hex.EncodeToString(x.PublicKey), hex.EncodeToString(key.Public().Bytes()), "public key from seed")

			sig, err := key.Sign(x.Message, ctx)
			require.NoError(t, err)
			require.Equal(t, hex.EncodeToString(x.Signature), hex.EncodeToString(sig), "deterministic signature")

			pub, err := scheme.ParsePublicKey(x.PublicKey)
			require.NoError(t, err)
			require.True(t, pub.Verify(x.Message, ctx, x.Signature), "vector signature must verify")
			require.False(t, pub.Verify(x.Message, ctx, x.TamperedSignature), "tampered signature must not verify")
			require.False(t, pub.Verify(x.Message, append(ctx, 'x'), x.Signature), "other context must not verify")
		})
	}
}

func TestVectorsMLKEMReproduceNoble(t *testing.T) {
	v := loadVectors(t)
	for i, x := range v.MLKEM {
		t.Run(fmt.Sprintf("%s/%d", x.Scheme, i), func(t *testing.T) {
			k := kemByName(t, x.Scheme)
			dk, err := k.NewKeyFromSeed(x.Seed)
			require.NoError(t, err)
			require.Equal(t, hex.EncodeToString(x.EncapsulationKey), hex.EncodeToString(dk.PublicKey()), "encapsulation key from seed")

			ct, ss := encapsulateExactly(t, k, x.EncapsulationKey, x.EncapsulationRandomness)
			require.Equal(t, hex.EncodeToString(x.Ciphertext), hex.EncodeToString(ct), "ciphertext")
			require.Equal(t, hex.EncodeToString(x.SharedSecret), hex.EncodeToString(ss), "shared secret")

			got, err := dk.Decapsulate(x.Ciphertext)
			require.NoError(t, err)
			require.Equal(t, x.SharedSecret, hexBytes(got), "decapsulated secret")

			require.NotEqual(t, x.Ciphertext, x.TamperedCiphertext, "vector must tamper")
			rejected, err := dk.Decapsulate(x.TamperedCiphertext)
			require.NoError(t, err, "implicit rejection is not an error")
			require.Equal(t, hex.EncodeToString(x.TamperedSharedSecret), hex.EncodeToString(rejected), "implicit rejection secret")
		})
	}
}

func TestVectorsXWingReproduceNoble(t *testing.T) {
	v := loadVectors(t)
	for i, x := range v.XWing {
		t.Run(fmt.Sprintf("%s/%d", x.Scheme, i), func(t *testing.T) {
			k := kemByName(t, x.Scheme)
			dk, err := k.NewKeyFromSeed(x.Seed)
			require.NoError(t, err)
			require.Equal(t, hex.EncodeToString(x.EncapsulationKey), hex.EncodeToString(dk.PublicKey()), "encapsulation key from seed")

			ct, ss := encapsulateExactly(t, k, x.EncapsulationKey, x.EncapsulationRandomness)
			require.Equal(t, hex.EncodeToString(x.Ciphertext), hex.EncodeToString(ct), "ciphertext")
			require.Equal(t, hex.EncodeToString(x.SharedSecret), hex.EncodeToString(ss), "shared secret")

			got, err := dk.Decapsulate(x.Ciphertext)
			require.NoError(t, err)
			require.Equal(t, x.SharedSecret, hexBytes(got), "decapsulated secret")
		})
	}
}

// encapsulateExactly encapsulates with randomness followed by a trailer and
// checks that exactly len(randomness) bytes were read.
func encapsulateExactly(t *testing.T, k core.KEM, pk, randomness []byte) (ct, ss []byte) {
	t.Helper()
	trailer := []byte("must stay unread")
	r := bytes.NewReader(append(append([]byte(nil), randomness...), trailer...))
	ct, ss, err := k.Encapsulate(r, pk)
	require.NoError(t, err)
	require.Equal(t, len(trailer), r.Len(), "Encapsulate must read exactly the encapsulation seed")
	return ct, ss
}
