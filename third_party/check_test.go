// Package thirdparty holds the pinned, patched copies of dependencies that
// the project cannot use unchanged (see PATCHES.md). Its test keeps each copy
// honest.
package thirdparty

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Each copy is exactly its upstream release, as go.mod requires it, with its
// patches applied: a copy edited by hand, a patch changed without its copy,
// or a version bumped without re-applying the patches (whose hunks then
// fail or land elsewhere) fails here, naming the files that differ.
func TestCopiesAreUpstreamPlusTheirPatches(t *testing.T) {
	if _, err := exec.LookPath("patch"); err != nil {
		t.Fatalf("the patch command is needed to rebuild the copies: %v", err)
	}
	for _, c := range []struct{ dir, sync string }{
		{"gqlgen", "sync-gqlgen.sh"},
	} {
		want := filepath.Join(t.TempDir(), c.dir)
		sync := exec.Command("bash", filepath.Join("third_party", c.sync), want)
		sync.Dir = ".."
		if out, err := sync.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", c.sync, err, out)
		}
		if diffs := compareTrees(t, want, c.dir); len(diffs) > 0 {
			t.Errorf("third_party/%s is not upstream plus third_party/patches/%s: %v\n"+
				"put changes in a patch (see PATCHES.md) and run third_party/%s", c.dir, c.dir, diffs, c.sync)
		}
	}
}

// compareTrees lists the files that differ between the trees a and b.
func compareTrees(t *testing.T, a, b string) []string {
	t.Helper()
	files := func(root string) map[string][]byte {
		out := map[string][]byte{}
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			data, err := os.ReadFile(path)
			out[rel] = data
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	fa, fb := files(a), files(b)
	var diffs []string
	for name, data := range fa {
		if other, ok := fb[name]; !ok {
			diffs = append(diffs, name+" (missing)")
		} else if !bytes.Equal(data, other) {
			diffs = append(diffs, name+" (changed)")
		}
	}
	for name := range fb {
		if _, ok := fa[name]; !ok {
			diffs = append(diffs, name+" (added)")
		}
	}
	return diffs
}
