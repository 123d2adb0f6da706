// Package flysim is an in-memory stand-in for Fly.io's Machines ("flaps") API.
package flysim

import (
	_ "github.com/superfly/fly-go"
	_ "github.com/superfly/fly-go/flaps"
	_ "github.com/superfly/fly-go/tokens"
)
