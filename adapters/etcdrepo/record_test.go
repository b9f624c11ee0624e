package etcdrepo

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/core/coretest/repotest"
)

const testPrefix = "/members/"

func TestRecordRoundTripKeepsEveryField(t *testing.T) {
	for i, m := range repotest.NewMembers(t, 4) {
		if i == 1 {
			m.Labels = nil
		}
		val, err := encodeMember(m)
		require.NoError(t, err)
		got, err := decodeMember(testPrefix, []byte(memberKey(testPrefix, m.ID)), val, 42)
		require.NoError(t, err)
		assert.Empty(t, repotest.Equal(got, m))
		assert.Equal(t, int64(42), got.Revision, "Revision comes from the key's ModRevision")
	}
}

func TestRecordEncodingIsStable(t *testing.T) {
	m := repotest.NewMember(t, 3)
	a, err := encodeMember(m)
	require.NoError(t, err)
	m.Revision = 99 // not stored
	b, err := encodeMember(m.Clone())
	require.NoError(t, err)
	assert.Equal(t, a, b)
	assert.True(t, strings.HasPrefix(string(a), `{"v":1,"id":"`+m.ID.String()+`"`), "version and ID lead the record: %s", a)
}

// recordWith returns m's record as a JSON object with change applied.
func recordWith(t *testing.T, m core.Member, change func(map[string]any)) []byte {
	t.Helper()
	val, err := encodeMember(m)
	require.NoError(t, err)
	var obj map[string]any
	require.NoError(t, json.Unmarshal(val, &obj))
	change(obj)
	out, err := json.Marshal(obj)
	require.NoError(t, err)
	return out
}

func TestDecodeRejectsWhatPutWouldRefuse(t *testing.T) {
	m, other := repotest.NewMember(t, 1), repotest.NewMember(t, 2)
	key := []byte(memberKey(testPrefix, m.ID))
	otherCert := repotest.NewIdentity(t, 2).Certificate
	tests := []struct {
		name  string
		key   []byte
		value []byte
	}{
		{"KeyOutsidePrefix", []byte("/elsewhere/" + m.ID.String()), recordWith(t, m, func(map[string]any) {})},
		{"KeyNotANodeID", []byte(testPrefix + "junk"), recordWith(t, m, func(map[string]any) {})},
		{"KeyInUppercaseHex", []byte(testPrefix + strings.ToUpper(m.ID.String())), recordWith(t, m, func(map[string]any) {})},
		{"NotJSON", key, []byte("not json")},
		{"Empty", key, nil},
		{"TrailingData", key, append(recordWith(t, m, func(map[string]any) {}), []byte(`{}`)...)},
		{"UnknownVersion", key, recordWith(t, m, func(o map[string]any) { o["v"] = 2 })},
		{"MissingVersion", key, recordWith(t, m, func(o map[string]any) { delete(o, "v") })},
		{"IDOfAnotherKey", key, recordWith(t, m, func(o map[string]any) { o["id"] = other.ID.String() })},
		{"CertificateOfAnotherNode", key, recordWith(t, m, func(o map[string]any) { o["cert"] = otherCert })},
		{"CertificateMissing", key, recordWith(t, m, func(o map[string]any) { delete(o, "cert") })},
		{"NegativeWeight", key, recordWith(t, m, func(o map[string]any) { o["weight"] = -1 })},
		{"EmptyLabelKey", key, recordWith(t, m, func(o map[string]any) { o["labels"] = map[string]string{"": "x"} })},
		{"BadIP", key, recordWith(t, m, func(o map[string]any) { o["ip"] = "10.0.0.300" })},
		{"PortOutOfRange", key, recordWith(t, m, func(o map[string]any) { o["port"] = 70000 })},
		{"WrongType", key, recordWith(t, m, func(o map[string]any) { o["zone"] = 7 })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeMember(testPrefix, tc.key, tc.value, 1)
			require.ErrorIs(t, err, core.ErrInvalidInput)
		})
	}
}

func TestDecodeIgnoresUnknownFields(t *testing.T) {
	m := repotest.NewMember(t, 1)
	val := recordWith(t, m, func(o map[string]any) { o["added_later"] = "x" })
	got, err := decodeMember(testPrefix, []byte(memberKey(testPrefix, m.ID)), val, 1)
	require.NoError(t, err)
	assert.Empty(t, repotest.Equal(got, m))
}

func TestEncodeRejectsInvalidMembers(t *testing.T) {
	base := repotest.NewMember(t, 1)
	tests := []struct {
		name   string
		mutate func(m *core.Member)
	}{
		{"ZeroID", func(m *core.Member) { m.ID = core.NodeID{} }},
		{"IDNotTheCertificatesNodeID", func(m *core.Member) { m.ID = repotest.NewIdentity(t, 2).ID }},
		{"CertificateNotDER", func(m *core.Member) { m.Certificate = []byte("pem?") }},
		{"NoCertificate", func(m *core.Member) { m.Certificate = nil }},
		{"NegativeWeight", func(m *core.Member) { m.Weight = -1 }},
		{"EmptyLabelKey", func(m *core.Member) { m.Labels[""] = "x" }},
		{"RegionNotUTF8", func(m *core.Member) { m.Region = "\xff" }},
		{"LabelValueNotUTF8", func(m *core.Member) { m.Labels["k"] = "\xc3" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := base.Clone()
			tc.mutate(&m)
			_, err := encodeMember(m)
			require.ErrorIs(t, err, core.ErrInvalidInput)
		})
	}
}
