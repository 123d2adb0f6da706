// Command golangci-lint is golangci-lint v2.15.0 with the Kubernetes API
// linter (sigs.k8s.io/kube-api-linter) compiled in as a module plugin.
//
// Why this module exists: `golangci-lint custom` builds such a binary by
// git-cloning golangci-lint from GitHub, rewriting its
// cmd/golangci-lint/plugins.go with blank imports of the plugin modules and
// running `go build`. Our build machines only reach the Go module proxy, so
// this module is an offline equivalent of what `golangci-lint custom`
// generates: the body below is a verbatim copy of golangci-lint v2.15.0's
// cmd/golangci-lint/main.go, and the blank import of sigs.k8s.io/kube-api-linter
// is what the generated plugins.go would contain. Every dependency (including
// golangci-lint itself) is resolved through go.mod/go.sum from the module proxy.
//
// Build (from the repository root):
//
//	cd hack/tools/golangci && go build -o ../../../bin/golangci-lint .
//
// When bumping golangci-lint in go.mod, re-copy main.go from the new
// version's cmd/golangci-lint/main.go (see `go mod download -json
// github.com/golangci/golangci-lint/v2@VERSION` for its Dir).
package main

import (
	"cmp"
	"fmt"
	"os"
	"regexp"
	"runtime/debug"
	"strings"

	"github.com/golangci/golangci-lint/v2/pkg/commands"
	"github.com/golangci/golangci-lint/v2/pkg/exitcodes"

	// Module plugin: registers the "kubeapilinter" custom linter
	// (configured in .golangci.yml under linters.settings.custom).
	_ "sigs.k8s.io/kube-api-linter"
)

var (
	goVersion = "unknown"

	// Populated by goreleaser during build
	version = "unknown"
	commit  = "?"
	date    = ""
)

func main() {
	info := createBuildInfo()

	if err := commands.Execute(info); err != nil {
		_, _ = fmt.Fprintf(os.Stderr, "The command is terminated due to an error: %v\n", err)
		os.Exit(exitcodes.Failure)
	}
}

func createBuildInfo() commands.BuildInfo {
	info := commands.BuildInfo{
		Commit:    commit,
		Version:   version,
		GoVersion: goVersion,
		Date:      date,
	}

	buildInfo, available := debug.ReadBuildInfo()
	if !available {
		return info
	}

	info.GoVersion = buildInfo.GoVersion

	if date != "" {
		return info
	}

	info.Version = buildInfo.Main.Version

	matched, _ := regexp.MatchString(`v\d+\.\d+\.\d+`, buildInfo.Main.Version)
	if matched {
		info.Version = strings.TrimPrefix(buildInfo.Main.Version, "v")
	}

	var revision string
	var modified string
	for _, setting := range buildInfo.Settings {
		// The `vcs.xxx` information is only available with `go build`.
		// This information is not available with `go install` or `go run`.
		switch setting.Key {
		case "vcs.time":
			info.Date = setting.Value
		case "vcs.revision":
			revision = setting.Value
		case "vcs.modified":
			modified = setting.Value
		}
	}

	info.Date = cmp.Or(info.Date, "(unknown)")

	info.Commit = fmt.Sprintf("(%s, modified: %s, mod sum: %q)",
		cmp.Or(revision, "unknown"), cmp.Or(modified, "?"), buildInfo.Main.Sum)

	return info
}
