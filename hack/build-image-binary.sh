#!/usr/bin/env bash
# Builds the binary the image ships, for both the Dockerfile and
# `make image`, so the two cannot build it differently: cmd/jetway (the
# product, never jetway-dev), static (no cgo: the image is FROM scratch, with
# no libc), paths trimmed and no VCS stamp, so one source tree and one Go
# toolchain give the same bytes wherever they build.
# Usage: hack/build-image-binary.sh OUT VERSION   (GOOS/GOARCH from the environment)
set -euo pipefail
out=${1:?usage: build-image-binary.sh OUT VERSION}
version=${2:?usage: build-image-binary.sh OUT VERSION (the version jetway version prints)}
CGO_ENABLED=0 go build -trimpath -buildvcs=false \
	-ldflags "-s -w -X main.version=${version}" \
	-o "$out" ./cmd/jetway
