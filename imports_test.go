package main

import (
	"os/exec"
	"strings"
	"testing"
)

// Imports run one way (docs/architecture.md, Import rules): infrastructure
// imports no domain package, the document limits know no schema of ours, tools import no part of the server, and the
// analysis depends on the suggestions' table alone. go list reads the
// packages' imports, tests excluded.
func TestImportsRunOneWay(t *testing.T) {
	const module = "github.com/feedbackloop/feedbackloop/"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module)
		for _, imp := range fields[1:] {
			if strings.HasPrefix(imp, module) {
				imports[pkg] = append(imports[pkg], strings.TrimPrefix(imp, module))
			}
		}
	}
	under := func(pkg, dir string) bool { return pkg == dir || strings.HasPrefix(pkg, dir+"/") }
	for pkg, deps := range imports {
		for _, dep := range deps {
			switch {
			case under(pkg, "internal") && !under(dep, "internal"):
				t.Errorf("%s (infrastructure) imports %s", pkg, dep)
			case under(pkg, "cmd") && !under(dep, "internal") && !under(dep, "ent/migrate") && !under(dep, "bench"):
				t.Errorf("%s (a tool) imports %s, a part of the server", pkg, dep)
			case under(pkg, "graph/wstransport") && !under(dep, "internal") && dep != "viewer" && dep != "ratelimit":
				t.Errorf("%s (the websocket transport) imports %s", pkg, dep)
			case under(pkg, "graph/doclimit") && !under(dep, "internal"):
				t.Errorf("%s (the document limits) imports %s: they judge any schema's documents", pkg, dep)
			}
		}
	}
	for _, dep := range imports["worker/analysis"] {
		if dep != "suggestion" && dep != "bounds" && !under(dep, "internal") && dep != "ent/adjustment" {
			t.Errorf("worker/analysis imports %s: it depends on the suggestions' table alone", dep)
		}
	}
}
