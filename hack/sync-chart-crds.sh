#!/usr/bin/env bash
# Copies the generated CRDs into the Helm chart: config/crd/bases/ to
# charts/jetway/crds/ (installed by Helm before the templates) and
# config/crd/external/ (external-dns's DNSEndpoint, installed only with
# installExternalDNSCRD=true) to charts/jetway/files/. Run it after
# `make manifests`.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
chart="$root/charts/jetway"

# sync <from> <to>: make <to>'s *.yaml exactly the CRD files of <from>.
sync() {
	local from="$1" to="$2" n=0 f
	mkdir -p "$to"
	rm -f "$to"/*.yaml
	for f in "$from"/*.yaml; do
		# Only CRDs; a kustomization or anything else stays behind.
		grep -q '^kind: CustomResourceDefinition$' "$f" || continue
		cp "$f" "$to"/
		n=$((n + 1))
	done
	if [ "$n" -eq 0 ]; then
		echo "no CRDs in ${from#"$root"/}" >&2
		exit 1
	fi
	echo "synced $n CRD(s) from ${from#"$root"/} to ${to#"$root"/}"
}

sync "$root/config/crd/bases" "$chart/crds"
sync "$root/config/crd/external" "$chart/files"
