package transport

// Reasons returns every handshake failure reason (ReasonNone excluded), in
// order, so an exporter can publish a series for each before it occurs.
func Reasons() []Reason {
	out := make([]Reason, 0, numReasons-1)
	for r := ReasonNone + 1; r < numReasons; r++ {
		out = append(out, r)
	}
	return out
}
