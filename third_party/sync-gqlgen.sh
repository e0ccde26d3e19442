#!/usr/bin/env bash
# Rebuilds third_party/gqlgen: gqlgen at the version go.mod requires, from
# the Go module cache, without its tests, test data and documentation, with
# the patches in third_party/patches/gqlgen applied in order. Run it after
# changing the version or a patch; third_party/check_test.go fails when the
# copy is not exactly this. See third_party/PATCHES.md.
set -euo pipefail
cd "$(dirname "$0")/.."

module=github.com/99designs/gqlgen
version=$(go list -m -f '{{.Version}}' "$module")
upstream=$(go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$upstream" ] || { echo "sync-gqlgen: no module directory for $module@$version" >&2; exit 1; }

dest=${1:-third_party/gqlgen}
rm -rf "$dest"
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
# Only what builds the library and the gqlgen tool; LICENSE stays with it.
(cd "$upstream" && find . -type f \
  ! -name '*_test.go' ! -path '*/testdata/*' ! -path './docs/*' ! -path './integration/*' \
  ! -path './_examples/*' ! -path './.github/*' ! -path './bin/*' ! -path './codegen/testserver/*' \
  \( -name '*.go' -o -name '*.gotpl' -o -name '*.gotmpl' -o -name '*.graphqls' -o -name 'go.mod' -o -name 'go.sum' -o -name 'LICENSE' \) \
  -print0) | (cd "$upstream" && xargs -0 cp --parents -t "$dest")
chmod -R u+w "$dest"
shopt -s nullglob
patches=(third_party/patches/gqlgen/*.patch)
for p in "${patches[@]}"; do
  patch --quiet --forward --no-backup-if-mismatch -p1 -d "$dest" < "$p"
done
echo "$dest: $module $version with ${#patches[@]} patches"
