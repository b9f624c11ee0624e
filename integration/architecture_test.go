package integration_test

import (
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// The dependency rules of DESIGN.md section 1, enforced with `go list` over the
// real build graph (non-test files). ../shared/tools/check-layers is a quick
// textual first look; this test is the authority CI runs.

const modulePrefix = "github.com/snowmerak/clustering/"

// layerRule says what a layer's packages may import directly.
type layerRule struct {
	// internal lists the workspace layers (first path elements, or
	// "adapters/x") a package may import besides its own layer.
	internal []string
	// thirdParty lists allowed third-party import path prefixes; nil allows any.
	thirdParty []string
	// anyThirdParty allows every third-party import (adapters, cmd, integration).
	anyThirdParty bool
}

var layerRules = map[string]layerRule{
	"core":       {},
	"pki":        {internal: []string{"core"}},
	"transport":  {internal: []string{"core", "pki"}, thirdParty: []string{"github.com/xtaci/", "golang.org/x/"}},
	"membership": {internal: []string{"core", "pki"}, thirdParty: []string{"github.com/zeebo/xxh3"}},
	"adapters":   {internal: []string{"core"}, anyThirdParty: true},
	"cmd":        {internal: []string{"core", "pki", "transport", "membership", "adapters"}, anyThirdParty: true},
	"integration": {internal: []string{"core", "pki", "transport", "membership", "adapters"},
		anyThirdParty: true},
}

// forbiddenDeps may not appear anywhere in the transitive dependencies of the
// layers that must receive crypto through the core ports.
var forbiddenDeps = map[string][]string{
	"core":       {"github.com/cloudflare/circl"},
	"pki":        {"github.com/cloudflare/circl", "golang.org/x/crypto"},
	"transport":  {"github.com/cloudflare/circl"},
	"membership": {"github.com/cloudflare/circl"},
}

type listedPackage struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// layerOf returns the layer of a workspace package ("adapters/pqc" → "adapters"),
// the unit ("adapters/pqc"), and false for packages outside the workspace.
func layerOf(path string) (layer, unit string, ok bool) {
	rest, ok := strings.CutPrefix(path, modulePrefix)
	if !ok {
		return "", "", false
	}
	parts := strings.Split(rest, "/")
	layer, unit = parts[0], parts[0]
	if layer == "adapters" && len(parts) > 1 {
		unit = "adapters/" + parts[1]
	}
	return layer, unit, true
}

func isStandard(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// violations applies the rules to listed packages.
func violations(pkgs []listedPackage) []string {
	var out []string
	for _, p := range pkgs {
		layer, unit, ok := layerOf(p.ImportPath)
		if !ok {
			continue
		}
		rule, known := layerRules[layer]
		if !known {
			out = append(out, fmt.Sprintf("%s: unknown layer %q (add it to DESIGN.md and layerRules)", p.ImportPath, layer))
			continue
		}
		for _, imp := range p.Imports {
			if isStandard(imp) {
				continue
			}
			if impLayer, impUnit, internal := layerOf(imp); internal {
				switch {
				case impUnit == unit:
				case impLayer == "cmd" || impLayer == "integration":
					out = append(out, fmt.Sprintf("%s imports %s: nothing imports cmd or integration", p.ImportPath, imp))
				case layer == "adapters" && impLayer == "adapters":
					out = append(out, fmt.Sprintf("%s imports %s: an adapter knows no other adapter", p.ImportPath, imp))
				case !contains(rule.internal, impLayer):
					out = append(out, fmt.Sprintf("%s imports %s: %s may use only %v", p.ImportPath, imp, layer, rule.internal))
				}
				continue
			}
			if !rule.anyThirdParty && !hasPrefix(imp, rule.thirdParty) {
				out = append(out, fmt.Sprintf("%s imports third-party %s: %s allows %v", p.ImportPath, imp, layer, rule.thirdParty))
			}
		}
		for _, dep := range p.Deps {
			if hasPrefix(dep, forbiddenDeps[layer]) {
				out = append(out, fmt.Sprintf("%s depends on %s: crypto reaches %s only through core ports", p.ImportPath, dep, layer))
			}
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func hasPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// listWorkspace runs `go list` over every package of every workspace module.
func listWorkspace(t *testing.T) []listedPackage {
	t.Helper()
	mods, err := exec.Command("go", "list", "-m", "-f", "{{.Path}}/...").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	args := append([]string{"list", "-e", "-json=ImportPath,Imports,Deps"}, strings.Fields(string(mods))...)
	cmd := exec.Command("go", args...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func TestWorkspaceFollowsLayerRules(t *testing.T) {
	pkgs := listWorkspace(t)
	layers := map[string]bool{}
	for _, p := range pkgs {
		if l, _, ok := layerOf(p.ImportPath); ok {
			layers[l] = true
		}
	}
	if !layers["core"] {
		t.Fatalf("go list found no core packages: %d packages listed", len(pkgs))
	}
	for _, v := range violations(pkgs) {
		t.Error(v)
	}
}

// The checker itself must catch each kind of violation.
func TestLayerCheckerCatchesViolations(t *testing.T) {
	m := modulePrefix
	cases := map[string]listedPackage{
		"core imports a third party":      {ImportPath: m + "core", Imports: []string{"github.com/zeebo/xxh3"}},
		"core imports pki":                {ImportPath: m + "core", Imports: []string{m + "pki"}},
		"pki imports an adapter":          {ImportPath: m + "pki", Imports: []string{m + "adapters/pqc"}},
		"transport imports circl":         {ImportPath: m + "transport", Imports: []string{"github.com/cloudflare/circl/sign/mldsa/mldsa65"}},
		"transport depends on circl":      {ImportPath: m + "transport", Deps: []string{"github.com/cloudflare/circl/kem"}},
		"membership imports transport":    {ImportPath: m + "membership", Imports: []string{m + "transport"}},
		"adapter imports another adapter": {ImportPath: m + "adapters/csvrepo", Imports: []string{m + "adapters/memrepo"}},
		"adapter imports pki":             {ImportPath: m + "adapters/etcdrepo", Imports: []string{m + "pki"}},
		"transport imports cmd":           {ImportPath: m + "transport", Imports: []string{m + "cmd/internal/x"}},
		"unknown layer":                   {ImportPath: m + "tools/x"},
	}
	for name, p := range cases {
		if v := violations([]listedPackage{p}); len(v) == 0 {
			t.Errorf("%s: not reported", name)
		}
	}
	allowed := []listedPackage{
		{ImportPath: m + "transport", Imports: []string{m + "core", m + "pki", "github.com/xtaci/kcp-go/v5", "crypto/hkdf"}},
		{ImportPath: m + "adapters/pqc", Imports: []string{m + "core", "github.com/cloudflare/circl/kem/xwing"}},
		{ImportPath: m + "cmd/cpki", Imports: []string{m + "adapters/pqc", m + "pki"}},
		{ImportPath: m + "membership/placement", Imports: []string{m + "membership", "github.com/zeebo/xxh3"}},
	}
	if v := violations(allowed); len(v) != 0 {
		t.Errorf("allowed imports reported: %v", v)
	}
}
