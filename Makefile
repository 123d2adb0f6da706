# Jetway. `make run` starts the whole system locally; `make test` runs every test.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

# Go module resolution for fly-go, whose checksums are not in the public
# checksum database.
export GONOSUMDB ?= github.com/superfly

K8S_VERSION ?= 1.37.2
# The local control plane (kube-apiserver, etcd, kubectl) is built once per
# machine, outside the repository, in the folder envtest already looks in.
ENVTEST_ASSETS_ROOT ?= $(or $(XDG_DATA_HOME),$(HOME)/.local/share)/kubebuilder-envtest
KUBEBUILDER_ASSETS ?= $(ENVTEST_ASSETS_ROOT)/k8s/$(K8S_VERSION)-linux-amd64
export KUBEBUILDER_ASSETS

LOCALBIN ?= $(CURDIR)/bin
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen
CRD_REF_DOCS ?= $(LOCALBIN)/crd-ref-docs
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint
JETWAY ?= $(LOCALBIN)/jetway
JETWAY_DEV ?= $(LOCALBIN)/jetway-dev
IMAGEBUILD ?= $(LOCALBIN)/imagebuild

# The image. Its version is the chart's appVersion, so the chart's and
# kustomize's default image (test/chart checks both) is the one `make image`
# builds unless VERSION or IMG is overridden.
CHART_APP_VERSION := $(shell sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\} *$$/\1/p' charts/jetway/Chart.yaml)
IMAGE_REPO ?= ghcr.io/jetway-dev/jetway
DEFAULT_IMG := ghcr.io/jetway-dev/jetway:$(CHART_APP_VERSION)
VERSION ?= $(CHART_APP_VERSION)
IMG ?= $(IMAGE_REPO):$(VERSION)
# The OCI archive `make image` writes, named from IMG (/ and : become _).
IMAGE_ARCHIVE ?= $(LOCALBIN)/image/$(subst :,_,$(subst /,_,$(IMG))).oci.tar
IMAGE_BINARY ?= $(LOCALBIN)/image/jetway-linux-$(shell go env GOARCH)
# Every timestamp in the image: the last commit's time, so one commit gives
# one image, byte for byte (0 outside a git checkout).
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null)

# Flags for `make run` (e.g. make run RUN_ARGS="--gateway-addr 127.0.0.1:9090").
RUN_ARGS ?=
# Per-package test timeout; the envtest and e2e packages start real binaries.
TEST_TIMEOUT ?= 15m
GO_TEST_FLAGS ?=

.PHONY: all
all: build

##@ Development

.PHONY: help
help: ## Show the targets.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*?##/ { printf "  %-14s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile=hack/boilerplate.go.txt paths="./api/..." paths="./internal/dns/externaldns/..."

.PHONY: manifests
manifests: $(CONTROLLER_GEN) $(CRD_REF_DOCS) ## Generate CRDs, RBAC and docs/api-reference.md.
	$(CONTROLLER_GEN) crd paths="./api/..." output:crd:artifacts:config=config/crd/bases
	$(CONTROLLER_GEN) crd paths="./internal/dns/externaldns/..." output:crd:artifacts:config=config/crd/external
	$(CONTROLLER_GEN) rbac:roleName=jetway-manager paths="./controllers/..." paths="./internal/gateway/..." paths="./internal/dashboard/..." output:rbac:artifacts:config=config/rbac
	@hack/sync-chart-crds.sh >/dev/null
	@CRD_REF_DOCS=$(CRD_REF_DOCS) hack/gen-api-reference.sh

.PHONY: verify-generated
verify-generated: generate manifests ## Fail if generated files are not committed.
	@if [ -n "$$(git status --porcelain -- api config internal/dns/externaldns charts/jetway/files charts/jetway/templates/clusterrole.yaml charts/jetway/templates/managed-namespace-role.yaml docs/api-reference.md)" ]; then \
		echo "Generated files are stale; run 'make generate manifests' and commit:"; \
		git status --porcelain -- api config internal/dns/externaldns charts/jetway/files charts/jetway/templates/clusterrole.yaml charts/jetway/templates/managed-namespace-role.yaml docs/api-reference.md; git --no-pager diff --stat; exit 1; fi

.PHONY: fmt
fmt: ## Run go fmt.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: lint
lint: $(GOLANGCI_LINT) ## Run golangci-lint with the Kubernetes API linter (.golangci.yml).
	$(GOLANGCI_LINT) run ./...
	cd hack/imagebuild && $(GOLANGCI_LINT) run ./...

.PHONY: envtest
envtest: ## Build kube-apiserver, etcd, kubectl and helm into KUBEBUILDER_ASSETS (once per machine).
	@hack/build-envtest-assets.sh "$(KUBEBUILDER_ASSETS)"

.PHONY: external-dns
external-dns: ## Build external-dns (for test/dns, against BIND) into KUBEBUILDER_ASSETS (once per machine).
	@hack/build-external-dns.sh "$(KUBEBUILDER_ASSETS)"

##@ Build and run

.PHONY: build
build: ## Build bin/jetway (the product) and bin/jetway-dev (the harness).
	go build -o $(JETWAY) ./cmd/jetway
	go build -o $(JETWAY_DEV) ./cmd/jetway-dev

.PHONY: image
image: $(IMAGEBUILD) ## Build the image offline as an OCI archive (IMAGE_ARCHIVE), the same image `docker build .` makes.
	@[ -n "$(VERSION)" ] || { echo "no VERSION: charts/jetway/Chart.yaml has no appVersion line" >&2; exit 1; }
	@mkdir -p $(dir $(IMAGE_BINARY))
	GOOS=linux hack/build-image-binary.sh $(IMAGE_BINARY) $(VERSION)
	$(IMAGEBUILD) --binary $(IMAGE_BINARY) --ref $(IMG) --version $(VERSION) --revision "$(REVISION)" \
		--created $(SOURCE_DATE_EPOCH) --out $(IMAGE_ARCHIVE)

.PHONY: run
run: envtest build ## Run the whole system locally (control plane, Fly stand-in, gateway, controllers).
	$(JETWAY_DEV) up --assets "$(KUBEBUILDER_ASSETS)" $(RUN_ARGS)

##@ Test

# Fuzz targets, as package:target; `make test` gives each FUZZ_TIME.
FUZZ_TARGETS ?= internal/signing:FuzzValid internal/signing:FuzzParamsFromJSON internal/gateway:FuzzDecodeProvisionRequest internal/gateway:FuzzParseBillingQuery internal/billing:FuzzStatementJSONIsEncodingJSONs
FUZZ_TIME ?= 10s

.PHONY: test
test: envtest external-dns verify-generated vet lint build image ## Run unit, envtest integration, chaos and e2e tests, then a short fuzz run.
	JETWAY_BIN=$(JETWAY) JETWAY_DEV_BIN=$(JETWAY_DEV) \
	JETWAY_IMAGE_ARCHIVE=$(IMAGE_ARCHIVE) JETWAY_IMG=$(IMG) JETWAY_IMAGE_VERSION=$(VERSION) JETWAY_IMAGE_REVISION="$(REVISION)" \
	JETWAY_IMAGEBUILD_BIN=$(IMAGEBUILD) JETWAY_DEFAULT_IMG=$(DEFAULT_IMG) \
	go test -count=1 -timeout $(TEST_TIMEOUT) $(GO_TEST_FLAGS) ./...
	cd hack/imagebuild && go test -count=1 $(GO_TEST_FLAGS) ./...
	$(MAKE) --no-print-directory fuzz FUZZ_TIME=$(FUZZ_TIME)

.PHONY: fuzz
fuzz: ## Fuzz each target for FUZZ_TIME (committed seeds live in testdata/fuzz).
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$name ($$pkg) for $(FUZZ_TIME)"; \
		go test ./$$pkg -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZ_TIME) || exit 1; \
	done

# Flags for `make bench` (e.g. BENCH_ARGS="--only P1,P6 --scale 0.2").
BENCH_ARGS ?=

.PHONY: bench
bench: envtest build ## Measure every performance figure beside its floor, each on a stack of its own (about 9 min on 2 cores); table in test-artifacts/bench/results.json.
	$(JETWAY_DEV) bench --manager-bin $(JETWAY) --assets "$(KUBEBUILDER_ASSETS)" $(BENCH_ARGS)

# Flags for `make chaos` (e.g. CHAOS_ARGS="--seed 7 --keep") and `make load`.
CHAOS_ARGS ?= --extensions 200 --restarts 1000
LOAD_ARGS ?=

.PHONY: chaos
chaos: envtest build ## Chaos run: 1,000 SIGKILLs of the manager while Fly calls and fails, then check invariants (~31 min).
	$(JETWAY_DEV) chaos --manager-bin $(JETWAY) --assets "$(KUBEBUILDER_ASSETS)" $(CHAOS_ARGS)

.PHONY: load
load: build ## Load the gateway of a running `make run` (start it first, in another terminal): 200 req/s for 30 s.
	$(JETWAY_DEV) load --env-file .jetway/dev.env $(LOAD_ARGS)

# golangci-lint with kube-api-linter compiled in, the offline equivalent of
# `golangci-lint custom` (see hack/tools/golangci/main.go).
$(GOLANGCI_LINT): hack/tools/golangci/go.mod hack/tools/golangci/main.go
	@mkdir -p $(LOCALBIN)
	cd hack/tools/golangci && go build -o $(GOLANGCI_LINT) .

# The offline image builder, a module of its own so go-containerregistry stays
# out of the product's go.mod.
$(IMAGEBUILD): hack/imagebuild/go.mod hack/imagebuild/*.go
	@mkdir -p $(LOCALBIN)
	cd hack/imagebuild && go build -o $(IMAGEBUILD) .

$(CRD_REF_DOCS): hack/tools/crd-ref-docs/go.mod
	@mkdir -p $(LOCALBIN)
	cd hack/tools/crd-ref-docs && go build -o $(CRD_REF_DOCS) github.com/elastic/crd-ref-docs

$(CONTROLLER_GEN): hack/tools/go.mod
	@mkdir -p $(LOCALBIN)
	cd hack/tools && go build -o $(CONTROLLER_GEN) sigs.k8s.io/controller-tools/cmd/controller-gen
