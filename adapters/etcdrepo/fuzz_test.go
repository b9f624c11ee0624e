package etcdrepo

import (
	"testing"

	"github.com/snowmerak/clustering/core/coretest/repotest"
)

// FuzzDecodeMember feeds arbitrary keys and values, as anyone with write
// access to etcd could, to the record decoder: it must not panic, and what
// it accepts must pass Put's checks and encode back to the same member.
func FuzzDecodeMember(f *testing.F) {
	for i := range 3 {
		m := repotest.NewMember(f, i)
		if i == 1 {
			m.Labels = nil
		}
		val, err := encodeMember(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(m.ID.String(), val)
	}
	f.Add("junk", []byte(`{"v":1}`))
	f.Add("", []byte(`{"v":2,"id":""}`))
	f.Fuzz(func(t *testing.T, suffix string, value []byte) {
		m, err := decodeMember(testPrefix, []byte(testPrefix+suffix), value, 7)
		if err != nil {
			return
		}
		if m.ID.String() != suffix || m.Revision != 7 {
			t.Fatalf("decoded member %s at %d from key suffix %q", m.ID, m.Revision, suffix)
		}
		again, err := encodeMember(m)
		if err != nil {
			t.Fatalf("accepted record does not encode: %v", err)
		}
		back, err := decodeMember(testPrefix, []byte(testPrefix+suffix), again, 7)
		if err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if d := repotest.Equal(back, m); d != "" {
			t.Fatalf("round trip changed the member: %s", d)
		}
	})
}
