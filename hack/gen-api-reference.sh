#!/usr/bin/env bash
# Regenerates docs/api-reference.md from the Go types in api/ with
# crd-ref-docs (run by `make manifests`). The page's layout is in
# hack/crd-ref-docs-templates/, the generator's settings in
# hack/crd-ref-docs.yaml, and its version in hack/tools/crd-ref-docs/go.mod.
#
# bin/crd-ref-docs is built from hack/tools/crd-ref-docs when it is missing
# or was built from another version than go.mod pins. The output depends
# only on api/ and the files above: running this twice gives the same page.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# fly-go's checksums are not in the public checksum database (as in the Makefile).
export GONOSUMDB="${GONOSUMDB:-github.com/superfly}"

bin="${CRD_REF_DOCS:-$root/bin/crd-ref-docs}"
tooldir="$root/hack/tools/crd-ref-docs"
module=github.com/elastic/crd-ref-docs
want="$(awk -v m="$module" '$1 == m { print $2; exit }' "$tooldir/go.mod")"
have=""
if [[ -x "$bin" ]]; then
	have="$(go version -m "$bin" 2>/dev/null | awk -v m="$module" '$1 == "mod" && $2 == m { print $3; exit }')"
fi
if [[ "$have" != "$want" ]]; then
	echo "building $bin ($module $want)" >&2
	mkdir -p "$(dirname "$bin")"
	(cd "$tooldir" && go build -o "$bin" "$module")
fi

out=docs/api-reference.md
tmp="$(mktemp "${TMPDIR:-/tmp}/api-reference.XXXXXX.md")"
trap 'rm -f "$tmp"' EXIT

"$bin" \
	--source-path=./api \
	--config=hack/crd-ref-docs.yaml \
	--renderer=markdown \
	--templates-dir=hack/crd-ref-docs-templates \
	--output-path="$tmp" \
	--log-level=WARN

mkdir -p "$(dirname "$out")"
# Replace the page only when it changed, so its mtime means something.
if ! cmp -s "$tmp" "$out"; then
	cat "$tmp" >"$out"
fi
