package main

// Code generation, in dependency order: ent writes the client and
// graph/ent.graphql, then gqlgen builds the executable schema from it.
//go:generate go run -mod=mod ./ent/entc.go
//go:generate go tool gqlgen generate --config gqlgen.yml
