package main

// Code generation, in dependency order: ent writes the client and
// graph/ent.graphql, then gqlgen builds the executable schema from it, and
// internal/gqlexec/rewrite points that at internal/gqlexec's faster paths.
//go:generate go run -mod=mod ./ent/entc.go
//go:generate go tool gqlgen generate --config gqlgen.yml
//go:generate go run ./internal/gqlexec/rewrite graph/generated/generated.go
