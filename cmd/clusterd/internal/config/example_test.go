package config_test

import (
	"fmt"

	"github.com/snowmerak/clustering/cmd/clusterd/internal/config"
)

func ExampleParse() {
	c, err := config.Parse([]byte(`
identity: {cert: node.crt, key: node.key}
trust: {roots: root.crt}
seeds: ["10.0.0.1:7946"]
topology: {zone: eu-1a, rack: r1}
swim: {profile: local}
`), "/etc/clusterd")
	if err != nil {
		fmt.Println(err)
		return
	}
	sc, _ := c.SWIMConfig()
	fmt.Println(c.Identity.Cert, c.Repo.Kind, c.ParsedSeeds()[0], sc.ProbeTimeout)
	// Output: /etc/clusterd/node.crt csv 10.0.0.1:7946 200ms
}
