#!/usr/bin/env bash
# Re-fetches the browser files GraphiQL needs from the npm registry into
# assets/ and records their SHA-384 SRI hashes in assets/manifest.json.
# Run it by hand after changing a version below (needs npm, node and tar),
# then run `go test ./internal/graphiql` and commit assets/.
#
# The versions are the ones gqlgen's playground (v0.17.98) loads from
# jsdelivr; the npm files are byte-identical to those CDN files (their
# sha256 SRI values match gqlgen's). graphiql 5 ships no UMD build: stay on 4.
set -euo pipefail
cd "$(dirname "$0")"

GRAPHIQL=4.1.2
REACT=18.2.0
EXPLORER=4.0.6

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# unpack <package@version>: unpacks the npm tarball into $tmp/<package@version>.
unpack() {
  local spec=$1 dir="$tmp/$1"
  mkdir -p "$dir"
  # npm checks the tarball against the registry's sha512 integrity.
  local tgz
  tgz=$(npm pack --silent --pack-destination "$dir" "$spec" | tail -n1)
  tar -xzf "$dir/$tgz" -C "$dir"
}

# Lines of: role package@version file-in-package name-in-assets.
# A role names the file's place in the page; licences have none ("-").
files="
react        react@$REACT                     umd/react.production.min.js    react@$REACT/react.production.min.js
-            react@$REACT                     LICENSE                        react@$REACT/LICENSE
react-dom    react-dom@$REACT                 umd/react-dom.production.min.js react-dom@$REACT/react-dom.production.min.js
-            react-dom@$REACT                 LICENSE                        react-dom@$REACT/LICENSE
graphiql-js  graphiql@$GRAPHIQL               graphiql.min.js                graphiql@$GRAPHIQL/graphiql.min.js
graphiql-css graphiql@$GRAPHIQL               graphiql.min.css               graphiql@$GRAPHIQL/graphiql.min.css
-            graphiql@$GRAPHIQL               LICENSE                        graphiql@$GRAPHIQL/LICENSE
explorer-js  @graphiql/plugin-explorer@$EXPLORER dist/index.umd.js           plugin-explorer@$EXPLORER/index.umd.js
explorer-css @graphiql/plugin-explorer@$EXPLORER dist/style.css              plugin-explorer@$EXPLORER/style.css
"

rm -rf assets
mkdir -p assets
manifest_lines=""
while read -r role spec src dest; do
  [ -n "$role" ] || continue
  [ -d "$tmp/$spec" ] || unpack "$spec"
  mkdir -p "assets/$(dirname "$dest")"
  # Byte for byte as published (source maps, 5 MB, are left out: only
  # the developer tools ask for them).
  cp "$tmp/$spec/package/$src" "assets/$dest"
  manifest_lines+="$role $spec $src $dest"$'\n'
done <<<"$files"

printf '%s' "$manifest_lines" | node -e '
const fs = require("fs"), crypto = require("crypto");
const files = fs.readFileSync(0, "utf8").trim().split("\n").map((line) => {
  const [role, pkg, source, path] = line.split(" ");
  const sri = "sha384-" + crypto.createHash("sha384").update(fs.readFileSync("assets/" + path)).digest("base64");
  return { role: role === "-" ? "" : role, package: pkg, source, path, integrity: sri };
});
const note = "Written by fetch-assets.sh from the npm registry; do not edit by hand.";
fs.writeFileSync("assets/manifest.json", JSON.stringify({ note, files }, null, 2) + "\n");
'
echo "wrote $(find assets -type f | wc -l) files to $(pwd)/assets:"
du -sh assets
