package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/snowmerak/clustering/core"
	"github.com/snowmerak/clustering/membership/swim"
)

const minimal = `
identity: {cert: node.crt, key: node.key}
trust: {roots: root.crt}
`

func TestParseAppliesDefaultsAndResolvesPaths(t *testing.T) {
	c, err := Parse([]byte(minimal), "/etc/clusterd")
	require.NoError(t, err)
	assert.Equal(t, "/etc/clusterd/node.crt", c.Identity.Cert)
	assert.Equal(t, "/etc/clusterd/root.crt", c.Trust.Roots)
	assert.Equal(t, "/etc/clusterd/members.csv", c.Repo.CSV.Path)
	assert.Equal(t, "/etc/clusterd/clusterd.sock", c.Admin.Socket)
	assert.Equal(t, DefaultListen, c.Listen)
	assert.Equal(t, RepoCSV, c.Repo.Kind)
	assert.True(t, c.Registers())
	assert.Equal(t, 1, c.Topology.Weight)
	assert.Equal(t, DefaultReplicas, c.Placement.Replicas)
	assert.Equal(t, DefaultJoinTimeout, c.JoinTimeout)
	assert.Equal(t, "default", c.Suite)
	sc, err := c.SWIMConfig()
	require.NoError(t, err)
	assert.Equal(t, swim.DefaultLANConfig().ProbeInterval, sc.ProbeInterval)
}

func TestParseFullFile(t *testing.T) {
	id := strings.Repeat("ab", 32)
	c, err := Parse([]byte(`
identity: {cert: /pki/n.crt, key: /pki/n.key, passphrase_env: NODE_PASS}
suite: cnsa2
listen: 127.0.0.1:7000
advertise: 10.0.0.1:7000
seeds: ["`+id+`@10.0.0.2:7000", "node3.example.com:7000", "[2001:db8::1]:7000"]
join_timeout: 5s
topology: {region: eu, zone: eu-1a, rack: r7, weight: 4, labels: {role: cache}}
repo:
  kind: etcd
  etcd: {endpoints: ["http://127.0.0.1:2379"], dial_timeout: 2s, prefix: /c/}
  ttl: 3s
trust: {roots: /pki/root.crt, revocation_lists: [a.crl], pinned: ["`+id+`"]}
swim: {profile: local, probe_interval: 500ms, probe_timeout: 100ms, suspicion_mult: 2}
placement: {replicas: 2}
metrics: {listen: "127.0.0.1:9100"}
admin: {socket: /run/c.sock}
log: {level: debug, format: json}
`), "/cfg")
	require.NoError(t, err)
	seeds := c.ParsedSeeds()
	require.Len(t, seeds, 3)
	assert.Equal(t, id, seeds[0].ID.String())
	assert.Equal(t, "node3.example.com", seeds[1].Host)
	assert.Equal(t, "[2001:db8::1]:7000", seeds[2].Address())
	assert.Equal(t, 2*time.Second, c.Repo.Etcd.DialTimeout)
	assert.Equal(t, "/cfg/a.crl", c.Trust.RevocationLists[0])
	assert.Equal(t, map[string]string{"role": "cache"}, c.Topology.Labels)
	pinned, err := c.PinnedIDs()
	require.NoError(t, err)
	assert.Equal(t, seeds[0].ID, pinned[0])
	sc, err := c.SWIMConfig()
	require.NoError(t, err)
	local := swim.DefaultLocalConfig()
	assert.Equal(t, 500*time.Millisecond, sc.ProbeInterval)
	assert.Equal(t, 100*time.Millisecond, sc.ProbeTimeout)
	assert.Equal(t, 2, sc.SuspicionMult)
	assert.Equal(t, local.GossipInterval, sc.GossipInterval, "values not overridden keep the profile's")
}

func TestParseRefusesBadFiles(t *testing.T) {
	for _, tc := range []struct {
		rule, yaml, want string
	}{
		{"unknown fields are errors", minimal + "listne: :7946\n", "field listne not found"},
		{"unknown nested fields are errors", minimal + "repo: {kind: csv, csv: {pth: x}}\n", "field pth not found"},
		{"durations are strings with units", minimal + "join_timeout: 5 parsecs\n", "line 4: cannot unmarshal !!str `5 parsecs` into time.Duration"},
		{"seeds need host:port", minimal + "seeds: [node2]\n", "seeds[0]"},
		{"seed IDs are 64 hex characters", minimal + "seeds: [abc@10.0.0.1:7946]\n", "want 64 hex characters"},
		{"the certificate is required", "identity: {key: k}\ntrust: {roots: r}\n", "identity.cert: required"},
		{"trust roots are required", "identity: {cert: c, key: k}\n", "trust.roots: required"},
		{"repo kinds are csv, etcd, memory", minimal + "repo: {kind: redis}\n", `repo.kind: "redis"`},
		{"etcd needs endpoints", minimal + "repo: {kind: etcd}\n", "repo.etcd.endpoints"},
		{"an allow-list forbids self-registration", "identity: {cert: c, key: k}\nrepo: {register: true}\ntrust: {roots: r, allow_list: true}\n", "repo.register"},
		{"probe timeout below the interval", minimal + "swim: {probe_interval: 1s, probe_timeout: 2s}\n", "probe_timeout 2s must be below"},
		{"swim profiles are lan, wan, local", minimal + "swim: {profile: fast}\n", `profile "fast"`},
		{"negative overrides are refused", minimal + "swim: {gossip_nodes: -1}\n", "gossip_nodes is negative"},
		{"log levels are known", minimal + "log: {level: loud}\n", "log.level"},
		{"log formats are text or json", minimal + "log: {format: xml}\n", "log.format"},
		{"advertise is an IP:port", minimal + "advertise: node1:7946\n", "advertise"},
		{"pinned IDs are NodeIDs", "identity: {cert: c, key: k}\ntrust: {roots: r, pinned: [xyz]}\n", "trust.pinned"},
		{"replicas are bounded", minimal + "placement: {replicas: 99}\n", "placement.replicas"},
		{"weights are bounded", minimal + "topology: {weight: 10001}\n", "topology.weight"},
		{"one document only", minimal + "---\nlisten: :1\n", "more than one YAML document"},
		{"suites are known", minimal + "suite: rsa\n", "suite"},
		{"the admin socket path fits a unix socket address", minimal + "admin: {socket: " + strings.Repeat("d", 90) + "/s.sock}\n", "admin.socket: 109 bytes with the temporary suffix, a unix socket path allows 103"},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "/d")
			require.ErrorIs(t, err, core.ErrInvalidInput)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "\n\t", "errors fit on one line per problem")
		})
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "absent.yaml"))
	require.ErrorIs(t, err, os.ErrNotExist)

	path := filepath.Join(t.TempDir(), "node.yaml")
	require.NoError(t, os.WriteFile(path, []byte(minimal+"bogus: 1\n"), 0o600))
	_, err = Load(path)
	require.ErrorContains(t, err, "config "+path+": ")

	require.NoError(t, os.WriteFile(path, []byte(minimal), 0o600))
	c, err := Load(path)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(filepath.Dir(path), "node.crt"), c.Identity.Cert)
}

func TestParseSeed(t *testing.T) {
	id := strings.Repeat("0f", 32)
	for _, tc := range []struct {
		rule, in, want, err string
	}{
		{"address only", "10.0.0.1:7946", "10.0.0.1:7946", ""},
		{"node ID and address", id + "@10.0.0.1:7946", id + "@10.0.0.1:7946", ""},
		{"DNS names", "node1.example.com:7946", "node1.example.com:7946", ""},
		{"bracketed IPv6", "[::1]:7946", "[::1]:7946", ""},
		{"a port is required", "10.0.0.1", "", "want nodeid@host:port"},
		{"port zero is not a port", "10.0.0.1:0", "", "1..65535"},
		{"ports are numbers", "10.0.0.1:http", "", "1..65535"},
		{"a host is required", ":7946", "", "bad host"},
		{"IDs are hex", strings.Repeat("zz", 32) + "@h:1", "", "node id"},
		{"one @ only", id + "@" + id + "@h:1", "", "bad host"},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			s, err := ParseSeed(tc.in)
			if tc.err != "" {
				require.ErrorIs(t, err, core.ErrInvalidInput)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, s.String())
		})
	}
}

func FuzzParseSeed(f *testing.F) {
	f.Add(strings.Repeat("0f", 32) + "@10.0.0.1:7946")
	f.Add("[::1]:7946")
	f.Add("host:65535")
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSeed(in)
		if err != nil {
			return
		}
		again, err := ParseSeed(s.String())
		if err != nil || again != s {
			t.Fatalf("seed %q → %q does not round-trip: %v", in, s.String(), err)
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(minimal))
	f.Add([]byte(minimal + "seeds: [\"10.0.0.1:7946\"]\nswim: {profile: wan, probe_interval: 9s}\n"))
	f.Add([]byte("identity: [1, 2]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "/d")
		if err != nil {
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("a parsed config fails validation again: %v", err)
		}
		if _, err := c.SWIMConfig(); err != nil {
			t.Fatalf("a valid config has no swim config: %v", err)
		}
	})
}
