// Package entgqltemplate holds templates that replace entgql's own (see
// ent/entc.go); this test notices when entgql's change under them.
package entgqltemplate

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The template collection.tmpl was copied from, at the entgo.io/contrib
// version go.mod requires, is the one it was made from: after an upgrade
// that changes it, the copy must be made again from the new one, with the
// changes its header lists.
func TestUpstreamTemplatesAreTheOnesCopied(t *testing.T) {
	copied := map[string]string{
		"entgql/template/collection.tmpl": "8067e6577b20a3b51d5fcaf833bc258a45c46047ac7f8bbc7778d6c18ffe9770",
	}
	out, err := exec.Command("go", "mod", "download", "-json", "entgo.io/contrib").Output()
	if err != nil {
		t.Fatalf("go mod download entgo.io/contrib: %v", err)
	}
	_, dir, _ := strings.Cut(string(out), `"Dir": "`)
	dir, _, _ = strings.Cut(dir, `"`)
	for file, want := range copied {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("entgo.io/contrib's %s changed (sha256 %s): copy it to ent/entgqltemplate again, make the changes its header lists, and record the new sum here", file, got)
		}
	}
}
