package pqc_test

import (
	"bytes"
	"fmt"

	"github.com/snowmerak/clustering/adapters/pqc"
)

// A node signs with the suite's preferred scheme, a peer verifies with the
// public key it parsed from the node's certificate, and the two agree on a
// shared secret through the suite's KEM.
func ExampleDefaultSuite() {
	suite := pqc.DefaultSuite()
	scheme := suite.Signatures[0]

	// Sign and verify under a context string that names the role.
	key, err := scheme.GenerateKey(nil)
	if err != nil {
		panic(err)
	}
	transcript := []byte("transcript hash")
	sig, err := key.Sign(transcript, []byte("responder"))
	if err != nil {
		panic(err)
	}
	pub, err := scheme.ParsePublicKey(key.Public().Bytes())
	if err != nil {
		panic(err)
	}
	fmt.Println(scheme.Name(), "verifies:", pub.Verify(transcript, []byte("responder"), sig))
	fmt.Println("under another context:", pub.Verify(transcript, []byte("initiator"), sig))

	// KEM round trip: the initiator's ephemeral key, the responder's encapsulation.
	ephemeral, err := suite.KEM.GenerateKey(nil)
	if err != nil {
		panic(err)
	}
	ciphertext, secret, err := suite.KEM.Encapsulate(nil, ephemeral.PublicKey())
	if err != nil {
		panic(err)
	}
	recovered, err := ephemeral.Decapsulate(ciphertext)
	if err != nil {
		panic(err)
	}
	fmt.Println(suite.KEM.Name(), "secrets agree:", bytes.Equal(secret, recovered))
	fmt.Printf("suite %s, id %#08x, records %s\n", suite.Name, suite.ID(), suite.AEAD.Name())
	// Output:
	// ML-DSA-65 verifies: true
	// under another context: false
	// X-Wing secrets agree: true
	// suite default, id 0x647aff03, records XChaCha20-Poly1305
}

// Deterministic signing reproduces published vectors: same key, message and
// context, same signature.
func ExampleDeterministic() {
	scheme := pqc.Deterministic(pqc.MLDSA44)
	key, err := scheme.NewKeyFromSeed(make([]byte, 32))
	if err != nil {
		panic(err)
	}
	a, err := key.Sign([]byte("message"), nil)
	if err != nil {
		panic(err)
	}
	b, err := key.Sign([]byte("message"), nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(a), bytes.Equal(a, b))
	// Output: 2420 true
}
