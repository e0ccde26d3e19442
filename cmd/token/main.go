// Command token prints a development JWT signed with JWT_SECRET (HS256),
// for trying the API with authentication on:
//
//	export JWT_SECRET=$(openssl rand -base64 48)
//	TOKEN=$(go run ./cmd/token -sub ada -name "Ada Lovelace")
//	curl -H "Authorization: Bearer $TOKEN" ...
//
// Production tokens come from an identity provider (JWT_JWKS_URL).
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/feedbackloop/feedbackloop/internal/hs256"
)

func main() {
	sub := flag.String("sub", "", "the token's subject (who it identifies); required")
	name := flag.String("name", "", "a display name")
	ttl := flag.Duration("ttl", time.Hour, "how long the token is valid")
	flag.Parse()
	secret := os.Getenv("JWT_SECRET")
	switch {
	case *sub == "":
		fmt.Fprintln(os.Stderr, "token: -sub is required, e.g. -sub ada")
		os.Exit(2)
	case len(secret) < hs256.MinSecretBytes:
		fmt.Fprintf(os.Stderr, "token: JWT_SECRET must be set to the server's secret (at least %d bytes)\n", hs256.MinSecretBytes)
		os.Exit(2)
	}
	token, err := hs256.Mint([]byte(secret), *sub, *name, *ttl)
	if err != nil {
		fmt.Fprintln(os.Stderr, "token:", err)
		os.Exit(1)
	}
	fmt.Println(token)
}
