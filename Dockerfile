# The Jetway image, for anyone with network access: `docker build .`.
# `make image` builds the same image offline (hack/imagebuild), and
# test/image fails if the two differ in user, entrypoint, command, workdir,
# labels or base.

# The version `jetway version` prints and the image's labels carry. Keep it
# equal to appVersion in charts/jetway/Chart.yaml (test/image checks).
ARG VERSION=0.1.0
# The commit built, for the revision label (--build-arg REVISION=$(git rev-parse HEAD)).
ARG REVISION=""

# The binary is built on the build machine's platform and cross-compiled
# (no cgo), so `docker buildx build --platform linux/arm64` needs no emulation.
FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY api/ api/
COPY cmd/ cmd/
COPY controllers/ controllers/
COPY internal/ internal/
COPY hack/build-image-binary.sh hack/
ARG TARGETOS TARGETARCH VERSION
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
	GOOS=$TARGETOS GOARCH=$TARGETARCH hack/build-image-binary.sh /out/jetway "$VERSION" && \
	mkdir -m 0700 /out/state

# Nothing but the binary and its state directory: no shell, no package
# manager, no /etc/passwd (the user is numeric, so runAsNonRoot can check it).
# CA roots are compiled into the binary (cmd/jetway/roots.go).
FROM scratch
ARG VERSION REVISION
LABEL org.opencontainers.image.title="jetway" \
      org.opencontainers.image.description="Jetway manager: the Fly-facing provisioning gateway, the controllers and the dashboard" \
      org.opencontainers.image.source="https://github.com/jetway-dev/jetway" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=build /out/jetway /jetway
# The nonce store's default --state-dir, writable by the user below even
# without a volume (the chart and kustomize mount an emptyDir over it).
COPY --from=build --chown=65532:65532 /out/state /var/lib/jetway
USER 65532:65532
WORKDIR /var/lib/jetway
ENTRYPOINT ["/jetway"]
# The chart and kustomize pass the same argument.
CMD ["manager"]
