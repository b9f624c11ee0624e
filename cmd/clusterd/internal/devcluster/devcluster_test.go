package devcluster

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/xtaci/kcp-go/v5.(*TimedSched).sched"),
		goleak.IgnoreTopFunction("github.com/xtaci/kcp-go/v5.(*TimedSched).prepend"),
	)
}

// The demo tells the whole story and leaves nothing behind.
func TestDevTellsTheWholeStory(t *testing.T) {
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	require.NoError(t, Run(ctx, &out, Options{}), out.String())
	story := out.String()
	t.Log(story)
	for _, want := range []string{
		`root CA\s+"clusterd dev Root CA"\s+ML-DSA-65`,
		`every node sees all three alive`,
		`node-2\s+[0-9a-f]{16}\s+alive\s+zone-b\s+127\.0\.0\.1:\d+`,
		`registry: members.csv holds 3 records`,
		`user:42\s+node-\d, node-\d`,
		`node-1: node-3 is dead`,
		`node-2: node-3 is dead`,
		`declared dead by every live node`,
		`\d of 8 primaries moved, all of them node-3's`,
		`node-1 saw its leave record`,
		`Removed /\S+clusterd-dev-\d+\. Done in`,
	} {
		assert.Regexp(t, regexp.MustCompile(want), story)
	}
	dir := regexp.MustCompile(`Removed (\S+)\. Done`).FindStringSubmatch(story)
	require.Len(t, dir, 2)
	_, err := os.Stat(dir[1])
	assert.ErrorIs(t, err, os.ErrNotExist, "the temporary directory is removed")
}

func TestClosingSaysRemovedOnlyWhenTheDirectoryGoes(t *testing.T) {
	assert.Equal(t, "Removed /tmp/d. Done in 1.5s.", closing("/tmp/d", false, 1500*time.Millisecond))
	assert.Equal(t, "Done in 1.5s.", closing("/tmp/d", true, 1500*time.Millisecond))
}
