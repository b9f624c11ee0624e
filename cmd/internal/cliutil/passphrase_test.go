package cliutil

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/term"
)

func TestPassphraseSources(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	t.Setenv("CLIUTIL_TEST_PASS", "from env")
	for _, tc := range []struct {
		name, want, wantErr string
		p                   Passphrase
	}{
		{"first line of the file", "secret", "", Passphrase{File: write("a", "secret\nignored\n"), Env: "CLIUTIL_TEST_PASS"}},
		{"CRLF line ending", "secret", "", Passphrase{File: write("b", "secret\r\n")}},
		{"file without newline", "secret", "", Passphrase{File: write("c", "secret")}},
		{"environment when no file", "from env", "", Passphrase{Env: "CLIUTIL_TEST_PASS"}},
		{"missing file", "", "no such file", Passphrase{File: filepath.Join(dir, "missing")}},
		{"empty file", "", "is empty", Passphrase{File: write("d", "\n"), Prompt: "Key passphrase"}},
		{"nothing and no terminal", "", "stdin is not a terminal", Passphrase{Env: "CLIUTIL_UNSET", Prompt: "Key passphrase"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.p.File == "" && os.Getenv(tc.p.Env) == "" && term.IsTerminal(int(os.Stdin.Fd())) {
				t.Skip("stdin is a terminal here: Read would prompt")
			}
			got, err := tc.p.Read(false)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(got))
		})
	}
}

func TestSchemeByName(t *testing.T) {
	for _, name := range SchemeNames() {
		s, err := SchemeByName(name)
		require.NoError(t, err)
		assert.Equal(t, name, "ml-dsa-"+s.Name()[len("ML-DSA-"):])
	}
	assert.Equal(t, []string{"ml-dsa-65", "ml-dsa-87", "ml-dsa-44"}, SchemeNames())
	_, err := SchemeByName("rsa")
	require.ErrorContains(t, err, "want one of ml-dsa-65, ml-dsa-87, ml-dsa-44")
}
