package pki

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteNewFiles(t *testing.T) {
	dir := t.TempDir()
	crt, key := filepath.Join(dir, "a.crt"), filepath.Join(dir, "a.key")
	require.NoError(t, WriteNewFiles(NewFile{crt, []byte("cert"), CertFileMode}, NewFile{key, []byte("key"), KeyFileMode}))
	for path, want := range map[string]fs.FileMode{crt: 0o644, key: 0o600} {
		st, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, want, st.Mode().Perm(), path)
	}
	assert.Equal(t, []string{"a.crt", "a.key"}, names(t, dir), "no temporary files left")
}

func TestWriteNewFilesWritesAllOrNothing(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string) []NewFile
	}{
		{"second file exists", func(t *testing.T, dir string) []NewFile {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "b.key"), []byte("old"), 0o600))
			return []NewFile{{filepath.Join(dir, "b.crt"), []byte("new"), CertFileMode}, {filepath.Join(dir, "b.key"), []byte("new"), KeyFileMode}}
		}},
		{"same path twice", func(t *testing.T, dir string) []NewFile {
			return []NewFile{{filepath.Join(dir, "c"), []byte("1"), 0}, {filepath.Join(dir, "./c"), []byte("2"), 0}}
		}},
		{"directory missing", func(t *testing.T, dir string) []NewFile {
			return []NewFile{{filepath.Join(dir, "d.crt"), []byte("1"), 0}, {filepath.Join(dir, "missing", "d.key"), []byte("2"), 0}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			files := tc.setup(t, dir)
			before := names(t, dir)
			require.Error(t, WriteNewFiles(files...))
			assert.Equal(t, before, names(t, dir), "nothing written, nothing removed")
		})
	}
	t.Run("existing file is untouched", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "k")
		require.NoError(t, os.WriteFile(path, []byte("old"), 0o600))
		require.ErrorIs(t, WriteNewFiles(NewFile{path, []byte("new"), 0}), fs.ErrExist)
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, "old", string(got))
	})
}

func TestReplaceFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "list.pem")
	require.NoError(t, os.WriteFile(path, []byte("v1"), 0o644))
	require.NoError(t, ReplaceFile(NewFile{path, []byte("v2"), CertFileMode}))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "v2", string(got))
	assert.Equal(t, []string{"list.pem"}, names(t, dir))

	// A missing directory is reported about the file asked for, not about
	// the temporary file the write goes through.
	missing := filepath.Join(dir, "no such dir", "list.pem")
	err = ReplaceFile(NewFile{missing, []byte("v1"), CertFileMode})
	require.ErrorIs(t, err, fs.ErrNotExist)
	assert.Equal(t, "write "+missing+": no such file or directory", err.Error())
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// A symlink planted where a key is to be written is never followed: the
// key must not land in the file it points to, whether or not that exists.
func TestWritesDoNotFollowSymlinks(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "elsewhere")
	link := filepath.Join(dir, "node.key")
	require.NoError(t, os.Symlink(target, link))
	require.ErrorIs(t, WriteNewFiles(NewFile{link, []byte("secret"), KeyFileMode}), fs.ErrExist)
	assert.NoFileExists(t, target, "a dangling symlink was followed")

	require.NoError(t, os.WriteFile(target, []byte("theirs"), 0o644))
	require.NoError(t, ReplaceFile(NewFile{link, []byte("list"), CertFileMode}))
	got, err := os.ReadFile(target)
	require.NoError(t, err)
	assert.Equal(t, "theirs", string(got), "ReplaceFile wrote through the symlink")
	st, err := os.Lstat(link)
	require.NoError(t, err)
	assert.True(t, st.Mode().IsRegular(), "the symlink itself is replaced")
}
