// Package config embeds the generated CRDs and the sample manifests, so the
// jetway binary can install them (`jetway-dev up`) without a checkout.
package config

import "embed"

// Files holds crd/bases, crd/external and samples.
//
//go:embed crd/bases/*.yaml crd/external/*.yaml samples/*.yaml
var Files embed.FS
