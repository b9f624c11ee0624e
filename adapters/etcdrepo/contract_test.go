package etcdrepo_test

import (
	"fmt"
	"testing"

	"github.com/snowmerak/clustering/adapters/etcdrepo/internal/etcdtest"
	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest/repotest"
)

// TestContract runs the MemberRepo contract shared with memrepo and csvrepo.
// One server serves every case; each case gets a fresh, empty prefix.
func TestContract(t *testing.T) {
	s := etcdtest.New(t, etcdtest.Options{})
	n := 0
	repotest.Run(t, func(t *testing.T) core.MemberRepo {
		n++
		return openRepo(t, s, fmt.Sprintf("/contract/%d/", n))
	})
}
