package membership_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// maxRounds bounds the rounds a passTimer keeps; past it, every other kept
// round is dropped and only every second round after is kept, so the figures
// still cover the whole run.
const maxRounds = 1 << 15

// quietFactor separates the host's two speeds: a round is quiet when its
// reference pass (the bare hash) took at most quietFactor times the fastest
// 1% of reference passes. The hash takes 3.5-4.5 ns per key in quiet periods
// and 6.5-9 ns in busy ones here.
const quietFactor = 1.3

// passTimer records rounds of passes timed back to back: column 0 is the
// reference (the bare hash of the same keys), the others the contenders,
// each as time per lookup. Its storage is allocated up front, so recording
// allocates nothing inside the benchmark loop.
type passTimer struct {
	cols   int
	data   []float64 // kept rounds, cols figures each
	stride int       // keep rounds whose index is a multiple of stride
	seen   int       // rounds offered
}

func newPassTimer(cols int) *passTimer {
	return &passTimer{cols: cols, data: make([]float64, 0, cols*maxRounds), stride: 1}
}

// add records one round: the reference's figure first.
func (t *passTimer) add(figures ...float64) {
	round := t.seen
	t.seen++
	if round%t.stride != 0 {
		return
	}
	if len(t.data) == cap(t.data) {
		kept := 0
		for r := 0; r < len(t.data)/t.cols; r += 2 {
			copy(t.data[kept*t.cols:][:t.cols], t.data[r*t.cols:][:t.cols])
			kept++
		}
		t.data, t.stride = t.data[:kept*t.cols], 2*t.stride
		if round%t.stride != 0 {
			return
		}
	}
	t.data = append(t.data, figures...)
}

// column returns column c of the rounds selected by keep (all when nil).
func (t *passTimer) column(c int, keep func(round int) bool) []float64 {
	var xs []float64
	for r := range len(t.data) / t.cols {
		if keep == nil || keep(r) {
			xs = append(xs, t.data[r*t.cols+c])
		}
	}
	return xs
}

// quiet reports whether round r ran while the host was quiet.
func (t *passTimer) quiet() func(round int) bool {
	ref := t.column(0, nil)
	limit := quietFactor * quantile(ref, 0.01)
	return func(r int) bool { return t.data[r*t.cols] <= limit }
}

// ratio returns, per round, column a over column b.
func (t *passTimer) ratio(a, b int) []float64 {
	xs := t.column(a, nil)
	for i, y := range t.column(b, nil) {
		xs[i] /= y
	}
	return xs
}

// report reports contender c: ns/op its median pass, quiet-ns its median
// quiet pass, x-hash the median of its passes over the reference's, and
// quiet-share the share of quiet rounds. It returns the quiet selector for
// the caller's further figures.
func (t *passTimer) report(b *testing.B, c int) (quiet func(round int) bool) {
	quiet = t.quiet()
	b.ReportMetric(quantile(t.column(c, nil), 0.5), "ns/op")
	b.ReportMetric(quantile(t.column(c, quiet), 0.5), "quiet-ns")
	b.ReportMetric(quantile(t.ratio(c, 0), 0.5), "x-hash")
	b.ReportMetric(float64(len(t.column(0, quiet)))/float64(len(t.data)/t.cols), "quiet-share")
	return quiet
}

// quantile returns the q-quantile of xs, sorting it.
func quantile(xs []float64, q float64) float64 {
	slices.Sort(xs)
	return xs[int(q*float64(len(xs)-1))]
}

// TestPassTimerKeepsRoundsEvenlyAsItFills checks the decimation: past
// maxRounds the kept rounds stay evenly spaced over the whole run, in the
// storage allocated up front.
func TestPassTimerKeepsRoundsEvenlyAsItFills(t *testing.T) {
	pt := newPassTimer(2)
	capacity := cap(pt.data)
	const rounds = 3*maxRounds + 5
	for r := range rounds {
		pt.add(float64(r), -float64(r))
	}
	require.Equal(t, 4, pt.stride)
	require.Equal(t, capacity, cap(pt.data))
	first, second := pt.column(0, nil), pt.column(1, nil)
	require.Len(t, first, (rounds+3)/4)
	for i, x := range first {
		require.Equal(t, float64(4*i), x)
		require.Equal(t, -x, second[i])
	}
}
