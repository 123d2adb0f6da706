#!/usr/bin/env bash
# Builds external-dns from the Go module proxy into the envtest assets folder,
# beside kube-apiserver and helm, so every clone on the machine shares one
# build. test/dns runs it against envtest and BIND, the way a production
# cluster runs it against its DNS provider. A binary already there is kept.
#
# v0.20.0 is pinned: v0.22 needs modules the proxy here does not serve and
# v0.23 wants Go 1.27.
#
# Usage: hack/build-external-dns.sh [ASSETS_DIR]
set -euo pipefail

version="v0.20.0"
k8s_version="1.37.2"
assets="${1:-${XDG_DATA_HOME:-$HOME/.local/share}/kubebuilder-envtest/k8s/${k8s_version}-linux-amd64}"
bin="$assets/external-dns-$version"
mkdir -p "$assets"

if [[ -x "$bin" ]]; then
  echo "external-dns: $version already built ($bin)"
  exit 0
fi
echo "external-dns: building $version from sigs.k8s.io/external-dns (first time only; a few minutes on 2 cores)..."
start=$SECONDS
( while sleep 30 >/dev/null 2>&1; do echo "external-dns: still building ($((SECONDS - start))s)"; done ) &
ticker=$!
trap 'kill "$ticker" 2>/dev/null || true' EXIT
# go install into a private GOBIN and rename, so an interrupted build never
# leaves a half-written binary that the check above would take as done.
gobin="$(mktemp -d "$assets/.external-dns.XXXXXX")"
trap 'kill "$ticker" 2>/dev/null || true; rm -rf "$gobin"' EXIT
if ! CGO_ENABLED=0 GOBIN="$gobin" GOFLAGS=-buildvcs=false go install -trimpath -ldflags='-s -w' "sigs.k8s.io/external-dns@$version"; then
  echo "external-dns: building $version failed" >&2
  exit 1
fi
mv "$gobin/external-dns" "$bin"
echo "external-dns: built $version in $((SECONDS - start))s ($bin)"
