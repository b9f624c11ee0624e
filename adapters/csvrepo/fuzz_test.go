package csvrepo_test

import (
	"bytes"
	"testing"

	"github.com/snowmerak/clustering/adapters/csvrepo"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest/repotest"
	"github.com/stretchr/testify/require"
)

// FuzzImport feeds arbitrary bytes to the CSV reader: it must not panic, must
// reject with core.ErrInvalidInput, and whatever it accepts must survive an
// Export/Import round trip unchanged.
func FuzzImport(f *testing.F) {
	var buf bytes.Buffer
	require.NoError(f, csvrepo.Export(&buf, repotest.NewMembers(f, 2)))
	f.Add(buf.Bytes())
	f.Add(bytes.ReplaceAll(buf.Bytes(), []byte(",1,"), []byte(",-1,")))
	f.Add([]byte("Region,Zone\n\"unterminated\n"))
	f.Add([]byte("# clustering members v1 revision=3\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ms, err := csvrepo.Import(bytes.NewReader(data))
		if err != nil {
			require.ErrorIs(t, err, core.ErrInvalidInput)
			require.Nil(t, ms)
			return
		}
		var out bytes.Buffer
		require.NoError(t, csvrepo.Export(&out, ms))
		again, err := csvrepo.Import(&out)
		require.NoError(t, err)
		require.Len(t, again, len(ms))
		for i := range ms {
			require.Empty(t, repotest.Equal(again[i], ms[i]))
		}
	})
}
