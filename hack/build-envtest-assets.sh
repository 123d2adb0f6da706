#!/usr/bin/env bash
# Builds the local control plane (kube-apiserver, etcd, kubectl), and helm, from the Go
# module proxy into the envtest assets folder, the same folder
# controller-runtime's envtest and setup-envtest use. The folder lives outside
# the repository so every clone on the machine shares one build; a binary that
# is already there is not rebuilt.
#
# Usage: hack/build-envtest-assets.sh [ASSETS_DIR]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
k8s_version="1.37.2"
assets="${1:-${XDG_DATA_HOME:-$HOME/.local/share}/kubebuilder-envtest/k8s/${k8s_version}-linux-amd64}"
mkdir -p "$assets"

build() { # name module-dir package
  local name="$1" dir="$2" pkg="$3"
  if [[ -x "$assets/$name" ]]; then
    echo "envtest assets: $name already built ($assets/$name)"
    return
  fi
  echo "envtest assets: building $name from $pkg (first time only; kube-apiserver takes about 10 minutes on 2 cores)..."
  local start=$SECONDS
  # go build is silent for minutes; say it is still going.
  ( while sleep 30 >/dev/null 2>&1; do echo "envtest assets: still building $name ($((SECONDS - start))s)"; done ) &
  local ticker=$!
  # Build to a temporary name and rename, so an interrupted build never leaves
  # a half-written binary that the check above would take as done.
  if ! (cd "$dir" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$assets/.$name.tmp" "$pkg"); then
    kill "$ticker" 2>/dev/null; wait "$ticker" 2>/dev/null || true
    echo "envtest assets: building $name failed" >&2
    return 1
  fi
  kill "$ticker" 2>/dev/null; wait "$ticker" 2>/dev/null || true
  mv "$assets/.$name.tmp" "$assets/$name"
  echo "envtest assets: built $name in $((SECONDS - start))s"
}

build etcd           "$here/tools/etcd" go.etcd.io/etcd/server/v3
build kube-apiserver "$here/tools"      k8s.io/kubernetes/cmd/kube-apiserver
build kubectl        "$here/tools"      k8s.io/kubernetes/cmd/kubectl
# helm renders the chart in its test (test/chart); it is not part of envtest,
# but it lives with the other test binaries so every clone shares one build.
build helm           "$here/tools/helm" helm.sh/helm/v3/cmd/helm
echo "$assets"
