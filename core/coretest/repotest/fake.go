package repotest

import (
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/memberlog"
)

// Repo is an in-memory core.MemberRepo for tests of layers that cannot
// import adapters (membership, transport): a memberlog.Table, the table
// adapters/memrepo serves, checked by the same contract (Run).
type Repo struct{ *memberlog.Table }

var _ core.MemberRepo = (*Repo)(nil)

// NewRepo returns an empty in-memory repository at revision 0 that keeps
// the last history changes for resuming watches (at least 1).
func NewRepo(history int) *Repo {
	return &Repo{memberlog.New(memberlog.Config{Name: "repotest fake", History: max(history, 1)})}
}
