// Command rewrite makes gqlgen's generated execution call package gqlexec
// in place of graphql.MarshalSliceConcurrently and
// graphql.NewDeferredGroup (see gqlexec's documentation for why). go
// generate runs it after gqlgen:
//
//	go run ./internal/gqlexec/rewrite graph/generated/generated.go
//
// It fails, naming what it did not find, when gqlgen's output no longer
// has the shape it rewrites (after a gqlgen upgrade, say), rather than
// leaving a file half rewritten; rewriting a file twice changes nothing.
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"os"
)

const gqlexecImport = `"github.com/feedbackloop/feedbackloop/internal/gqlexec"`

// A replacement of every occurrence of old by new.
type replacement struct{ old, new string }

var replacements = []replacement{
	{"graphql.MarshalSliceConcurrently(", "gqlexec.MarshalSlice("},
	{"deferred := graphql.NewDeferredGroup(ctx)", "deferred := gqlexec.NewDeferredGroup(ctx)"},
	// The path that graphql.NewDeferredGroup set up front, set once it is
	// needed. Every object ends with this call (the counts are checked).
	{"\t\tec.ProcessDeferredGroup(deferred)\n", "\t\tdeferred.Path = graphql.GetPath(ctx)\n\t\tec.ProcessDeferredGroup(deferred)\n"},
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: rewrite FILE.go (gqlgen's generated execution)")
		os.Exit(2)
	}
	if err := rewriteFile(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "rewrite:", err)
		os.Exit(1)
	}
}

func rewriteFile(path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, err := rewrite(src)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if bytes.Equal(out, src) {
		return nil
	}
	return os.WriteFile(path, out, 0o644)
}

// rewrite returns src with the replacements made and gqlexec imported.
func rewrite(src []byte) ([]byte, error) {
	if bytes.Contains(src, []byte(gqlexecImport)) {
		return src, nil // rewritten already
	}
	counts := make([]int, len(replacements))
	for i, r := range replacements {
		counts[i] = bytes.Count(src, []byte(r.old))
		if counts[i] == 0 {
			return nil, fmt.Errorf("no %q: gqlgen's output changed; update internal/gqlexec/rewrite", r.old)
		}
		src = bytes.ReplaceAll(src, []byte(r.old), []byte(r.new))
	}
	if counts[1] != counts[2] {
		return nil, fmt.Errorf("%d deferred groups but %d places that process them: gqlgen's output changed; update internal/gqlexec/rewrite", counts[1], counts[2])
	}
	const graphqlImport = "\t\"github.com/99designs/gqlgen/graphql\"\n"
	if !bytes.Contains(src, []byte(graphqlImport)) {
		return nil, fmt.Errorf("no import of %s", graphqlImport)
	}
	src = bytes.Replace(src, []byte(graphqlImport), []byte(graphqlImport+"\t"+gqlexecImport+"\n"), 1)
	return format.Source(src)
}
