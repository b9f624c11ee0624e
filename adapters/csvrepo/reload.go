package csvrepo

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"

	"github.com/snowmerak/clustering/core"
)

// refresh reloads the file when it differs from the one last seen (another
// inode after a rename, or another size or modification time) and turns the
// difference into watch events; callers hold r.mu. On error the state is kept.
func (r *Repo) refresh() error {
	fi, err := os.Stat(r.path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("stat %s: %w", r.path, err)
	}
	if err != nil {
		fi = nil
	}
	if sameStamp(fi, r.stamp) {
		return nil
	}
	members, rev, stamp, err := load(r.path)
	if err != nil {
		return err
	}
	r.apply(members, rev, stamp)
	return nil
}

func sameStamp(a, b os.FileInfo) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// load reads and checks the whole file. Rows without a Revision column (a
// seed file) get revisions after the highest one known, in file order.
func load(path string) (map[core.NodeID]core.Member, int64, os.FileInfo, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[core.NodeID]core.Member{}, 0, nil, nil
	}
	if err != nil {
		return nil, 0, nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, nil, fmt.Errorf("stat %s: %w", path, err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("read %s: %w", path, err)
	}
	list, rev, err := decode(data)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("load %s: %w", path, err)
	}
	for _, m := range list {
		rev = max(rev, m.Revision)
	}
	members := make(map[core.NodeID]core.Member, len(list))
	for _, m := range list {
		if m.Revision == 0 {
			rev++
			m.Revision = rev
		}
		members[m.ID] = m
	}
	return members, rev, fi, nil
}

// unreplayable is why watches end when a reload cannot be replayed.
const unreplayable = "the file was changed in a way that cannot be replayed"

// apply installs a reloaded state. When the new file is exactly the old one
// plus puts whose revisions fill every revision in between, those puts become
// watch events; otherwise (a delete, a squashed update, a file replaced by
// hand) the history is reset and current watches end with core.ErrCompacted,
// telling their owners to List again.
func (r *Repo) apply(members map[core.NodeID]core.Member, rev int64, stamp os.FileInfo) {
	r.stamp = stamp
	old, oldRev := r.table.Snapshot()
	if puts, exact := diff(old, oldRev, members, rev); exact {
		for _, m := range puts {
			r.table.ApplyPut(m)
		}
		return
	}
	r.table.Reset(slices.Collect(maps.Values(members)), rev, unreplayable)
}

// diff returns the puts, in revision order, that lead from old (at revision
// oldRev) to cur (at rev), and whether they account for every revision in
// between.
func diff(old []core.Member, oldRev int64, cur map[core.NodeID]core.Member, rev int64) ([]core.Member, bool) {
	if rev < oldRev {
		return nil, false
	}
	before := make(map[core.NodeID]core.Member, len(old))
	for _, m := range old {
		if _, ok := cur[m.ID]; !ok {
			return nil, false
		}
		before[m.ID] = m
	}
	var puts []core.Member
	for id, m := range cur {
		if o, ok := before[id]; ok && o.Revision == m.Revision {
			if !sameMember(o, m) {
				return nil, false
			}
			continue
		}
		if m.Revision <= oldRev {
			return nil, false
		}
		puts = append(puts, m)
	}
	slices.SortFunc(puts, func(a, b core.Member) int { return cmp.Compare(a.Revision, b.Revision) })
	for i, m := range puts {
		if m.Revision != oldRev+int64(i)+1 {
			return nil, false
		}
	}
	return puts, oldRev+int64(len(puts)) == rev
}

func sameMember(a, b core.Member) bool {
	return a.ID == b.ID && a.Region == b.Region && a.Zone == b.Zone && a.Rack == b.Rack &&
		a.IP == b.IP && a.Port == b.Port && a.Domain == b.Domain && a.Weight == b.Weight &&
		string(a.Certificate) == string(b.Certificate) && maps.Equal(a.Labels, b.Labels)
}
