package csvrepo_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snowmerak/clustering/adapters/csvrepo"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest/repotest"
	"github.com/stretchr/testify/require"
)

// seedRow returns member i as the seed wrote it: eight columns.
func seedRow(t *testing.T, i int) []string {
	m := repotest.NewMember(t, i)
	return []string{m.Region, m.Zone, m.Rack, m.IP.String(), m.Domain, fmt.Sprint(m.Weight), m.ID.String(),
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: m.Certificate}))}
}

func writeCSV(t *testing.T, rows [][]string) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	require.NoError(t, w.WriteAll(rows))
	return buf.Bytes()
}

// rowLine returns the line on which row k (0-based) of writeCSV(rows) starts.
func rowLine(t *testing.T, rows [][]string, k int) int {
	return bytes.Count(writeCSV(t, rows[:k]), []byte("\n")) + 1
}

func TestSeedEightColumnFilesLoad(t *testing.T) {
	rows := [][]string{seedRow(t, 1), seedRow(t, 2), seedRow(t, 3)}
	header := csvrepo.Columns[:8]
	for name, data := range map[string][]byte{
		"WithoutHeader": writeCSV(t, rows),
		"WithHeader":    writeCSV(t, append([][]string{header}, rows...)),
	} {
		t.Run(name, func(t *testing.T) {
			ms, err := csvrepo.Import(bytes.NewReader(data))
			require.NoError(t, err)
			require.Len(t, ms, 3)
			for i, m := range ms {
				want := repotest.NewMember(t, i+1)
				want.Port, want.Labels = 0, nil
				require.Empty(t, repotest.Equal(m, want))
			}
			path := filepath.Join(t.TempDir(), "seed.csv")
			require.NoError(t, os.WriteFile(path, data, 0o644))
			r := open(t, path)
			list, rev, err := r.List(context.Background())
			require.NoError(t, err)
			require.Len(t, list, 3)
			require.Equal(t, int64(3), rev, "seed rows get revisions 1..n in file order")
			// The first write rewrites the file in the repository's own format.
			m := repotest.NewMember(t, 9)
			_, err = r.Put(context.Background(), m, 0)
			require.NoError(t, err)
			reopened, rev2, err := open(t, path).List(context.Background())
			require.NoError(t, err)
			require.Len(t, reopened, 4)
			require.Equal(t, int64(4), rev2)
		})
	}
}

func TestExportImportRoundTrip(t *testing.T) {
	ms := repotest.NewMembers(t, 6)
	ms[2].Labels = nil
	ms[3].Labels = map[string]string{"a b": "c&d=e", "ünï": "ç,\"\n"}
	ms[4].IP, ms[4].Port = core.Member{}.IP, 0
	ms[5].Region = "#not-a-comment"
	var buf bytes.Buffer
	require.NoError(t, csvrepo.Export(&buf, ms))
	require.True(t, strings.HasPrefix(buf.String(), strings.Join(csvrepo.Columns[:10], ",")+"\n"))
	got, err := csvrepo.Import(&buf)
	require.NoError(t, err)
	require.Len(t, got, len(ms))
	for i := range ms {
		require.Empty(t, repotest.Equal(got[i], ms[i]), "member %d", i)
	}
}

func TestBadRowsAreReportedByLineAndNothingLoads(t *testing.T) {
	other := repotest.NewMember(t, 50)
	otherPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: other.Certificate}))
	tests := []struct {
		name   string
		mutate func(row []string) []string
		want   string
	}{
		{"BadPEM", func(r []string) []string {
			r[7] = "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n"
			return r
		}, "PEMData"},
		{"PEMNotACertificate", func(r []string) []string { r[7] = strings.ReplaceAll(r[7], "CERTIFICATE", "PRIVATE KEY"); return r }, "PEMData"},
		{"GarbageDER", func(r []string) []string {
			r[7] = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{0x30, 0x03, 1, 2, 3}}))
			return r
		}, "certificate"},
		{"HashKeyNotOfCertificate", func(r []string) []string { r[7] = otherPEM; return r }, "does not match"},
		{"HashKeyNotHex", func(r []string) []string { r[6] = "xyz"; return r }, "HashKey"},
		{"WeightNotANumber", func(r []string) []string { r[5] = "heavy"; return r }, "Weight"},
		{"NegativeWeight", func(r []string) []string { r[5] = "-2"; return r }, "Weight"},
		{"TooFewColumns", func(r []string) []string { return r[:7] }, "7 fields"},
		{"NineColumns", func(r []string) []string { return append(r, "8080") }, "9 fields"},
		{"BadIP", func(r []string) []string { r[3] = "10.0.0.300"; return r }, "IP"},
		{"BadPort", func(r []string) []string { return append(r, "70000", "") }, "Port"},
		{"RepeatedLabel", func(r []string) []string { return append(r, "", "a=1&a=2") }, "Labels"},
		{"DuplicateHashKey", func(r []string) []string { return seedRow(t, 1) }, "already on line"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows := [][]string{csvrepo.Columns[:8], seedRow(t, 1), tc.mutate(seedRow(t, 2)), seedRow(t, 3)}
			data := writeCSV(t, rows)
			ms, err := csvrepo.Import(bytes.NewReader(data))
			require.ErrorIs(t, err, core.ErrInvalidInput)
			require.Nil(t, ms, "nothing is half-loaded")
			require.Contains(t, err.Error(), fmt.Sprintf("line %d: ", rowLine(t, rows, 2)))
			require.Contains(t, err.Error(), tc.want)

			path := filepath.Join(t.TempDir(), "members.csv")
			require.NoError(t, os.WriteFile(path, data, 0o644))
			_, err = csvrepo.Open(path)
			require.ErrorIs(t, err, core.ErrInvalidInput, "Open refuses the whole file")
		})
	}
}

func TestEveryBadRowIsListed(t *testing.T) {
	rows := [][]string{seedRow(t, 1), seedRow(t, 2), seedRow(t, 3), seedRow(t, 4)}
	rows[1][5], rows[3][5] = "x", "y"
	_, err := csvrepo.Import(bytes.NewReader(writeCSV(t, rows)))
	require.ErrorIs(t, err, core.ErrInvalidInput)
	for _, k := range []int{1, 3} {
		require.Contains(t, err.Error(), fmt.Sprintf("line %d: ", rowLine(t, rows, k)))
	}
	require.NotContains(t, err.Error(), fmt.Sprintf("line %d: ", rowLine(t, rows, 2)))
}

func TestBrokenFileKeepsLastGoodState(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "members.csv")
	r := open(t, path, csvrepo.WithPollInterval(0))
	m := repotest.NewMember(t, 1)
	_, err := r.Put(ctx, m, 0)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, []byte("a,b\n"), 0o644))
	_, _, err = r.List(ctx)
	require.ErrorIs(t, err, core.ErrInvalidInput)
	_, err = r.Put(ctx, repotest.NewMember(t, 2), 0)
	require.ErrorIs(t, err, core.ErrInvalidInput, "a write never replaces a file it cannot read")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "a,b\n", string(data))
}
