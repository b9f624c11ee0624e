// Package config is clusterd's node configuration: the YAML file format,
// its defaults, validation, and the seed peer syntax. Load reads a file with
// unknown fields refused, durations written as strings ("500ms"), and paths
// relative to the file's directory.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/snowmerak/clustering/adapters/etcdrepo"
	"github.com/snowmerak/clustering/cmd/internal/cliutil"
	"github.com/snowmerak/clustering/core"
)

// Defaults applied by Load to fields the file leaves empty.
const (
	// DefaultListen is the UDP address the transport binds.
	DefaultListen = "0.0.0.0:7946"
	// DefaultJoinTimeout is how long seeds are retried before startup fails.
	DefaultJoinTimeout = 30 * time.Second
	// DefaultCSVPath is the member file of the csv repository.
	DefaultCSVPath = "members.csv"
	// DefaultRegistrationTTL is the etcd lease of a node's own record.
	DefaultRegistrationTTL = 10 * time.Second
	// DefaultAdminSocket is the admin socket's file name.
	DefaultAdminSocket = "clusterd.sock"
	// DefaultReplicas is the number of owners placement lists per key.
	DefaultReplicas = 3
)

// Repository kinds.
const (
	RepoCSV    = "csv"
	RepoEtcd   = "etcd"
	RepoMemory = "memory"
)

// Config is one node's configuration file.
type Config struct {
	// Identity names the node's certificate chain and key.
	Identity Identity `yaml:"identity"`
	// Suite is the algorithm suite: "default" (X-Wing, ML-DSA-65,
	// XChaCha20-Poly1305) or "cnsa2" (ML-KEM-1024, ML-DSA-87, AES-256-GCM).
	Suite string `yaml:"suite"`
	// Listen is the UDP address the transport binds (DefaultListen).
	Listen string `yaml:"listen"`
	// Advertise is the address other members should use, when Listen's is
	// not reachable as is (a wildcard or NAT). Default: the bound address.
	Advertise string `yaml:"advertise"`
	// Seeds are members to join through: "nodeid@host:port" or "host:port".
	Seeds []string `yaml:"seeds"`
	// JoinTimeout is how long seeds are retried before startup fails
	// (DefaultJoinTimeout).
	JoinTimeout time.Duration `yaml:"join_timeout"`
	// Topology places the node and sets its placement weight.
	Topology Topology `yaml:"topology"`
	// Repo is the member registry.
	Repo Repo `yaml:"repo"`
	// Trust decides which peers are members.
	Trust Trust `yaml:"trust"`
	// SWIM tunes failure detection.
	SWIM SWIM `yaml:"swim"`
	// Placement tunes key placement.
	Placement Placement `yaml:"placement"`
	// Metrics configures the Prometheus endpoint.
	Metrics Metrics `yaml:"metrics"`
	// Admin configures the local admin socket.
	Admin Admin `yaml:"admin"`
	// Log configures logging.
	Log Log `yaml:"log"`

	// seeds are Seeds parsed by Validate.
	seeds []Seed
}

// Identity names the node's certificate chain (PEM, leaf first) and key
// (PEM, optionally encrypted).
type Identity struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
	// PassphraseFile holds an encrypted key's passphrase on its first line;
	// PassphraseEnv names an environment variable holding it instead.
	PassphraseFile string `yaml:"passphrase_file"`
	PassphraseEnv  string `yaml:"passphrase_env"`
}

// MaxWeight bounds a member's placement weight. Building a placement costs
// time in proportion to the largest weight (membership.NewPlacement), so a
// weight announced in gossip is capped here too: one member announcing
// 2³¹−1 would otherwise stall every node's placement for minutes.
const MaxWeight = 10000

// Topology is where the node sits and how much load it takes.
type Topology struct {
	Region string `yaml:"region"`
	Zone   string `yaml:"zone"`
	Rack   string `yaml:"rack"`
	// Weight is the relative capacity for placement (1 when 0, at most MaxWeight).
	Weight int               `yaml:"weight"`
	Labels map[string]string `yaml:"labels"`
}

// Repo selects and configures the member registry.
type Repo struct {
	// Kind is "csv" (default), "etcd" or "memory".
	Kind string `yaml:"kind"`
	// CSV configures the csv repository.
	CSV CSV `yaml:"csv"`
	// Etcd configures the etcd repository (etcdrepo.Config).
	Etcd etcdrepo.Config `yaml:"etcd"`
	// Register makes the node write its own record at start (default true;
	// must be false with Trust.AllowList, whose registry the operator keeps).
	Register *bool `yaml:"register"`
	// TTL ties the record to an etcd lease kept alive while the node runs,
	// so a crashed node leaves the registry by itself (DefaultRegistrationTTL;
	// etcd only).
	TTL time.Duration `yaml:"ttl"`
}

// CSV configures the csv repository.
type CSV struct {
	// Path is the member file (DefaultCSVPath), shared by the nodes of one host.
	Path string `yaml:"path"`
	// PollInterval is how often the file is checked for other writers' changes.
	PollInterval time.Duration `yaml:"poll_interval"`
}

// Trust decides which peers are members of the cluster.
type Trust struct {
	// Roots is a PEM file of trusted root certificates. Required.
	Roots string `yaml:"roots"`
	// RevocationLists are PEM revocation lists signed by a CA of Roots.
	RevocationLists []string `yaml:"revocation_lists"`
	// AllowList admits only peers listed in the member registry.
	AllowList bool `yaml:"allow_list"`
	// Pinned, when set, admits only these NodeIDs (hex), on top of Roots.
	Pinned []string `yaml:"pinned"`
}

// SWIM selects a timing profile of membership/swim and overrides single
// values; a zero value keeps the profile's.
type SWIM struct {
	// Profile is "lan" (default), "wan" or "local".
	Profile                 string        `yaml:"profile"`
	ProbeInterval           time.Duration `yaml:"probe_interval"`
	ProbeTimeout            time.Duration `yaml:"probe_timeout"`
	IndirectChecks          int           `yaml:"indirect_checks"`
	SuspicionMult           int           `yaml:"suspicion_mult"`
	SuspicionMaxTimeoutMult int           `yaml:"suspicion_max_timeout_mult"`
	AwarenessMaxMultiplier  int           `yaml:"awareness_max_multiplier"`
	RetransmitMult          int           `yaml:"retransmit_mult"`
	GossipInterval          time.Duration `yaml:"gossip_interval"`
	GossipNodes             int           `yaml:"gossip_nodes"`
	GossipToTheDeadTime     time.Duration `yaml:"gossip_to_the_dead_time"`
	PushPullInterval        time.Duration `yaml:"push_pull_interval"`
	ReconnectInterval       time.Duration `yaml:"reconnect_interval"`
	TombstoneTimeout        time.Duration `yaml:"tombstone_timeout"`
	RequestTimeout          time.Duration `yaml:"request_timeout"`
}

// Placement tunes key placement.
type Placement struct {
	// Replicas is the number of owners per key (DefaultReplicas).
	Replicas int `yaml:"replicas"`
}

// Metrics configures the Prometheus endpoint.
type Metrics struct {
	// Listen is the HTTP address serving /metrics; empty disables it.
	Listen string `yaml:"listen"`
}

// Admin configures the admin socket, a unix socket (mode 0600) that
// "clusterd members" and "clusterd status" query.
type Admin struct {
	// Socket is the socket's path (DefaultAdminSocket).
	Socket string `yaml:"socket"`
}

// Log configures logging to stderr.
type Log struct {
	// Level is "debug", "info" (default), "warn" or "error".
	Level string `yaml:"level"`
	// Format is "text" (default) or "json".
	Format string `yaml:"format"`
}

// Load reads, completes and validates the configuration file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(data, filepath.Dir(abs))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes a configuration, applies the defaults, resolves relative
// paths against dir and validates the result.
func Parse(data []byte, dir string) (*Config, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		// yaml lists one problem a line; the error is one line.
		return nil, fmt.Errorf("%s: %w", cliutil.OneLine(err.Error()), core.ErrInvalidInput)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("more than one YAML document: %w", core.ErrInvalidInput)
	}
	c.applyDefaults()
	c.resolvePaths(dir)
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// applyDefaults fills the fields the file left empty.
func (c *Config) applyDefaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.Suite, "default")
	def(&c.Listen, DefaultListen)
	def(&c.Repo.Kind, RepoCSV)
	def(&c.Repo.CSV.Path, DefaultCSVPath)
	def(&c.Admin.Socket, DefaultAdminSocket)
	def(&c.Log.Level, "info")
	def(&c.Log.Format, "text")
	def(&c.SWIM.Profile, "lan")
	if c.JoinTimeout == 0 {
		c.JoinTimeout = DefaultJoinTimeout
	}
	if c.Repo.Register == nil {
		register := !c.Trust.AllowList
		c.Repo.Register = &register
	}
	if c.Repo.TTL == 0 {
		c.Repo.TTL = DefaultRegistrationTTL
	}
	if c.Topology.Weight == 0 {
		c.Topology.Weight = 1
	}
	if c.Placement.Replicas == 0 {
		c.Placement.Replicas = DefaultReplicas
	}
}

// resolvePaths makes every file path absolute, relative to dir.
func (c *Config) resolvePaths(dir string) {
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	abs(&c.Identity.Cert)
	abs(&c.Identity.Key)
	abs(&c.Identity.PassphraseFile)
	abs(&c.Trust.Roots)
	for i := range c.Trust.RevocationLists {
		abs(&c.Trust.RevocationLists[i])
	}
	abs(&c.Repo.CSV.Path)
	abs(&c.Admin.Socket)
	abs(&c.Repo.Etcd.TLSFiles.CAFile)
	abs(&c.Repo.Etcd.TLSFiles.CertFile)
	abs(&c.Repo.Etcd.TLSFiles.KeyFile)
}

// Registers reports whether the node writes its own registry record.
func (c *Config) Registers() bool { return c.Repo.Register != nil && *c.Repo.Register }

// ParsedSeeds returns the seeds Validate parsed.
func (c *Config) ParsedSeeds() []Seed { return append([]Seed(nil), c.seeds...) }
