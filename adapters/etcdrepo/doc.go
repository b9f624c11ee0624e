// Package etcdrepo is a core.MemberRepo stored in etcd: the shared,
// authoritative member registry of a fleet that spans more than one machine,
// interchangeable with memrepo and csvrepo behind the port (the same
// contract suite, core/coretest/repotest, runs against all three).
//
// # Layout and revisions
//
// Each member is one key, Config.Prefix + the lowercase hex NodeID, whose
// value is a versioned JSON record (see record.go for the format; readers
// reject other versions and apply Put's checks, because anyone with write
// access to etcd can put bytes there). A member's Revision is the etcd
// ModRevision of its key; the revisions List, Watch and Delete report are
// etcd header revisions. etcd counts revisions for the whole keyspace, so
// they increase across members but are not contiguous within the prefix.
//
// Put and Delete are single etcd transactions: expect 0 compares the key's
// CreateRevision with 0, a positive expect compares its ModRevision, so
// compare-and-set holds across every client of the cluster.
//
// # Watches
//
// Watch follows etcd from a revision, resumes across disconnections and
// server restarts without losing or repeating a change, and ends with
// core.ErrCompacted when etcd no longer holds the history it needs.
//
// # Registration
//
// Register puts a member under a lease that a background goroutine keeps
// alive; when the node stops (or loses etcd for longer than the TTL), etcd
// deletes the record and watchers see the member leave.
//
// # Connection
//
// Open takes a Config that a service's YAML can fill (endpoints, prefix,
// timeouts, TLS file paths, username and password). TLS configurations
// built from files require TLS 1.3, whose key exchange in Go 1.24 and later
// is the hybrid X25519MLKEM768, so the registry link is post-quantum too.
// Open fails within Config.DialTimeout when etcd cannot be reached, naming
// the cause it can find (refused port, untrusted certificate, missing client
// certificate). In a service's YAML (gopkg.in/yaml.v3 reads durations):
//
//	etcd:
//	  endpoints: [https://etcd-1:2379, https://etcd-2:2379]
//	  prefix: /prod/members/
//	  dial_timeout: 5s
//	  tls: {ca_file: etcd-ca.pem, cert_file: node.pem, key_file: node-key.pem}
package etcdrepo
