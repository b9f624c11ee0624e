package fakenet_test

import (
	"fmt"

	"github.com/snowmerak/clustering/core/coretest/fakenet"
)

// A lossy link between two endpoints; the seed makes the losses reproducible.
func Example() {
	n := fakenet.New(42)
	a, _ := n.Listen("10.0.0.1:7000")
	b, _ := n.Listen("10.0.0.2:7000")
	defer a.Close()
	defer b.Close()

	n.SetFaults("10.0.0.1", "10.0.0.2", fakenet.Faults{Loss: 0.5})
	for i := range 10 {
		a.WriteTo([]byte{byte(i)}, b.LocalAddr())
	}
	fmt.Println("sent:", n.Stats(a.AddrPort()).PacketsSent, "delivered:", n.Stats(b.AddrPort()).PacketsReceived)
	// Output: sent: 10 delivered: 5
}
