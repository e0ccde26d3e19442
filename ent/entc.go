//go:build ignore

// entc.go generates the ent client and the GraphQL schema parts derived from it
// (graph/ent.graphql). Run from the repository root through `go generate ./...` (see generate.go).
package main

import (
	"log"

	"github.com/vektah/gqlparser/v2/ast"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
)

func main() {
	ex, err := entgql.NewExtension(
		entgql.WithConfigPath("./gqlgen.yml"),
		entgql.WithSchemaGenerator(),
		entgql.WithSchemaPath("./graph/ent.graphql"),
		entgql.WithWhereInputs(true),
		entgql.WithNodeDescriptor(false),
		entgql.WithSchemaHook(nonNullListEdges, filterableAdjustments),
	)
	if err != nil {
		log.Fatalf("creating entgql extension: %v", err)
	}
	err = entc.Generate("./ent/schema", &gen.Config{
		Features: []gen.Feature{
			// Each table gets its own 1<<32 ID range, so an ID alone names its
			// type: the basis of the opaque Relay global IDs.
			gen.FeatureGlobalID,
			gen.FeatureVersionedMigration,
			gen.FeatureExecQuery,
			gen.FeatureLock,
			// Authorization rules live in the schemas' policies; query
			// filters (privacy.FilterFunc) need entql.
			gen.FeaturePrivacy,
			gen.FeatureEntQL,
			gen.FeatureUpsert,
		},
	}, entc.Extensions(ex), entc.TemplateDir("./ent/template"), overrideEntgql("./ent/entgqltemplate/collection.tmpl"))
	if err != nil {
		log.Fatalf("running ent codegen: %v", err)
	}
}

// overrideEntgql parses templates that replace entgql's own ones of the same
// name (they need entgql's template functions, so they cannot live in
// ./ent/template). Options apply in order: this one comes after
// entc.Extensions, so its templates win.
func overrideEntgql(files ...string) entc.Option {
	return func(cfg *gen.Config) error {
		t, err := gen.NewTemplate("entgql-override").Funcs(entgql.TemplateFuncs).ParseFiles(files...)
		if err != nil {
			return err
		}
		cfg.Templates = append(cfg.Templates, t)
		return nil
	}
}

// nonNullListEdges makes plain list edges (not connections) non-null, so
// clients get [] rather than null when an object has no such neighbours.
func nonNullListEdges(g *gen.Graph, s *ast.Schema) error {
	for _, n := range g.Nodes {
		def, ok := s.Types[n.Name]
		if !ok {
			continue
		}
		for _, f := range def.Fields {
			if f.Type.Elem != nil {
				f.Type.NonNull = true
			}
		}
	}
	return nil
}

// filterableAdjustments lets Feedback.adjustments take a where filter, as
// Project.adjustments does: a board asks for the suggestions still PROPOSED.
func filterableAdjustments(_ *gen.Graph, s *ast.Schema) error {
	def, ok := s.Types["Feedback"]
	if !ok {
		return nil
	}
	for _, f := range def.Fields {
		if f.Name == "adjustments" {
			f.Arguments = append(f.Arguments, &ast.ArgumentDefinition{
				Name:        "where",
				Description: "Filtering options for the suggestions returned.",
				Type:        ast.NamedType("AdjustmentWhereInput", nil),
			})
		}
	}
	return nil
}
