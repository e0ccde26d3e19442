#!/usr/bin/env bash
# Builds the web app from source into internal/webapp/dist, which the Go
# binary embeds and serves at /app. Needs Node 20 and npm; `go run .` and
# `go generate ./...` do not. CI (.ci/run) runs this on a clean install and
# fails if the result differs from the committed files, so commit what it
# writes (src/gql and internal/webapp/dist) with your change.
set -euo pipefail
cd "$(dirname "$0")"
# The exact dependency tree of package-lock.json, nothing else; no install
# scripts (esbuild finds its binary in its @esbuild/<platform> package).
npm ci --no-audit --no-fund --ignore-scripts
npm run build
