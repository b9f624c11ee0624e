// Command clusterd runs a cluster node: the post-quantum secure transport,
// SWIM failure detection with signed gossip, the member registry and a key
// placement that follows liveness, with Prometheus metrics and a local admin
// socket.
//
//	clusterd run -config node.yaml   run a node until SIGINT or SIGTERM
//	clusterd dev                     a three-node demo on loopback
//	clusterd members                 list members, from a running node
//	clusterd status                  summarise a running node
//	clusterd reload                  apply changed trust files to a running node
//
// Errors print one line to stderr and exit with status 1; bad flags exit
// with status 2. See README.md for the configuration file.
package main

import (
	"context"
	"os"

	"github.com/snowmerak/clustering/cmd/internal/cliutil"
)

func commands() []cliutil.Command {
	return []cliutil.Command{
		{Name: "run", Summary: "run a node from a configuration file", Run: runNode},
		{Name: "dev", Summary: "start three nodes on loopback with a throwaway PKI and show the story", Run: runDev},
		{Name: "members", Summary: "list the members a running node sees", Run: runMembers},
		{Name: "status", Summary: "summarise a running node", Run: runStatus},
		{Name: "reload", Summary: "make a running node read its trust roots and revocation lists again", Run: runReload},
		{Name: "admit", Summary: "write a node's record into the member registry (for allow-lists)", Run: runAdmit},
		{Name: "evict", Summary: "remove a node's record from the member registry", Run: runEvict},
	}
}

// tool is clusterd with its commands and usage text.
func tool() cliutil.Tool {
	return cliutil.Tool{Name: "clusterd", Commands: commands(), Help: `Typical use:
  clusterd dev                       # see a cluster form, lose a node and heal
  clusterd run -config node.yaml     # one node of a real cluster
  clusterd members -config node.yaml # ask it who is alive`}
}

func main() {
	os.Exit(tool().Run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
