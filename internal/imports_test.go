package internal_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// TestImportRules enforces DESIGN.md §3 from `go list -deps`, so a forbidden edge fails the
// build rather than review: genai imports nothing internal; feature packages do not import
// each other; only store backends import database drivers; only queue imports NATS.
func TestImportRules(t *testing.T) {
	const mod = "github.com/use-lumina/lumina/"
	out, err := exec.Command("go", "list", "-deps", "-json", "../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	feature := map[string]bool{}
	for _, p := range []string{"cost", "quality", "alert", "replay", "otlp", "queue", "limits", "llm", "auth"} {
		feature[mod+"internal/"+p] = true
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	checked := 0
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(p.ImportPath, mod) {
			continue
		}
		checked++
		pkg := strings.TrimPrefix(p.ImportPath, mod)
		for _, imp := range p.Imports {
			switch {
			case pkg == "internal/genai" && strings.HasPrefix(imp, mod):
				t.Errorf("internal/genai imports %s: it must import nothing internal", imp)
			case feature[p.ImportPath] && feature[imp]:
				t.Errorf("feature package %s imports feature package %s: declare an interface and wire it in cmd/lumina", pkg, imp)
			case (strings.HasPrefix(imp, "github.com/jackc/pgx") || strings.HasPrefix(imp, "modernc.org/sqlite")) && !strings.HasPrefix(pkg, "internal/store/"):
				t.Errorf("%s imports the database driver %s: only internal/store/* may", pkg, imp)
			case strings.HasPrefix(imp, "github.com/nats-io/") && pkg != "internal/queue":
				t.Errorf("%s imports %s: only internal/queue talks to NATS", pkg, imp)
			case (strings.HasPrefix(imp, "github.com/anthropics/") || strings.HasPrefix(imp, "github.com/openai/")) && pkg != "internal/llm":
				t.Errorf("%s imports the provider SDK %s: only internal/llm talks to LLM providers", pkg, imp)
			}
		}
	}
	if checked < 10 {
		t.Fatalf("checked %d of our packages, want the whole module", checked)
	}
}
