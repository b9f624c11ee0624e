package clitest

import (
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBinaryIsBuiltOnceAndRemoved(t *testing.T) {
	bin := New("hello", "./testdata/hello")
	path := bin.Path(t)
	out, err := exec.Command(path, "a", "b").Output()
	require.NoError(t, err)
	assert.Equal(t, "[a b]\n", string(out))

	// A second call must not build again: with the file gone, it still
	// answers the same path and the file stays gone.
	require.NoError(t, os.Remove(path))
	again, err := bin.Build()
	require.NoError(t, err)
	assert.Equal(t, path, again)
	assert.NoFileExists(t, path, "built once")

	bin.Remove()
	assert.NoDirExists(t, bin.dir)
}

func TestBuildFailureCarriesTheCompilerOutput(t *testing.T) {
	bin := New("broken", "./testdata/broken")
	t.Cleanup(bin.Remove)
	_, err := bin.Build()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "build broken")
	assert.Contains(t, err.Error(), "main.go", "the compiler names the file it refused")
	_, again := bin.Build()
	assert.Equal(t, err, again, "a failed build is not retried")
}

func ExampleBinary() {
	bin := New("hello", "./testdata/hello")
	defer bin.Remove()
	path, err := bin.Build()
	if err != nil {
		fmt.Println(err)
		return
	}
	out, _ := exec.Command(path, "hi").Output()
	fmt.Print(string(out))
	// Output: [hi]
}
