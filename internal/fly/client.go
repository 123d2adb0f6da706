// Package fly is Jetway's narrow view of Fly's Machines API: only the calls
// the controllers make, in front of fly-go's flaps client, with client-side
// rate limits that mirror Fly's, errors sorted into a few sentinels, and
// every outbound request counted and timed.
package fly

import (
	"context"
	"time"

	fly "github.com/superfly/fly-go"
	"github.com/superfly/fly-go/flaps"
)

// Metadata keys Jetway writes on every machine it creates. They are how a
// restarted controller finds what it made (Fly's create has no idempotency
// key) and how the orphan sweeper proves ownership.
const (
	MetaExtension  = "jetway_extension"
	MetaRole       = "jetway_role"
	MetaRegion     = "jetway_region"
	MetaConfigHash = "jetway_config_hash"
	// MetaVolumeSizeGB is the size the plan gives the machine's volume, so
	// that a change of it is a change of the machine's config.
	MetaVolumeSizeGB = "jetway_volume_gb"
)

// App is a Fly app as Jetway needs to see it.
type App = flaps.App

// Machine is a Fly machine.
type Machine = fly.Machine

// IPAssignment is an IP address assigned to an app.
type IPAssignment = flaps.IPAssignment

// Volume is a Fly volume.
type Volume = fly.Volume

// VolumeSnapshot is a snapshot of a Fly volume.
type VolumeSnapshot = fly.VolumeSnapshot

// Client is every Machines API call the controllers make.
type Client interface {
	CreateApp(ctx context.Context, name, network string) (*App, error)
	GetApp(ctx context.Context, name string) (*App, error)
	DeleteApp(ctx context.Context, name string) error
	// ListApps lists the apps of the provider's organization.
	ListApps(ctx context.Context) ([]App, error)

	// ListMachines lists the app's live machines whose metadata carries
	// every key=value of match.
	ListMachines(ctx context.Context, app string, match map[string]string) ([]*Machine, error)
	CreateMachine(ctx context.Context, app string, in fly.LaunchMachineInput) (*Machine, error)
	// UpdateMachine changes a machine's config under a lease it takes and
	// releases itself.
	UpdateMachine(ctx context.Context, app string, in fly.LaunchMachineInput) (*Machine, error)
	// StartMachine starts a stopped, suspended or failed machine.
	StartMachine(ctx context.Context, app, id string) error
	// DestroyMachine force-destroys a machine; a machine already gone is
	// not an error.
	DestroyMachine(ctx context.Context, app, id string) error

	// ListVolumes lists the app's volumes that are not being destroyed.
	ListVolumes(ctx context.Context, app string) ([]Volume, error)
	CreateVolume(ctx context.Context, app string, req fly.CreateVolumeRequest) (*Volume, error)
	// ExtendVolume grows a volume to sizeGB; it reports whether the
	// machine mounting it must restart to see the new size.
	ExtendVolume(ctx context.Context, app, id string, sizeGB int) (*Volume, bool, error)
	// DeleteVolume destroys a volume no machine is bound to; one already
	// gone is not an error.
	DeleteVolume(ctx context.Context, app, id string) error
	// ListVolumeSnapshots lists a volume's snapshots that Fly still keeps,
	// also once the volume itself is destroyed (a snapshot outlives its
	// volume until its retention ends), as long as the app exists.
	ListVolumeSnapshots(ctx context.Context, app, volumeID string) ([]VolumeSnapshot, error)
	// CreateVolumeSnapshot asks Fly to snapshot a volume now. Fly answers
	// without the snapshot: it shows up in ListVolumeSnapshots.
	CreateVolumeSnapshot(ctx context.Context, app, volumeID string) error

	ListIPs(ctx context.Context, app string) ([]IPAssignment, error)
	AssignIP(ctx context.Context, app string, req flaps.AssignIPRequest) (*IPAssignment, error)
	// ReleaseIP removes an IP assignment; one already gone is not an error.
	ReleaseIP(ctx context.Context, app, ip string) error

	// SetSecrets sets app secrets; machines read them as environment
	// variables.
	SetSecrets(ctx context.Context, app string, values map[string]string) error
	// Secrets lists the app's secrets: names and Fly's creation times,
	// never values.
	Secrets(ctx context.Context, app string) ([]Secret, error)
	// UnsetSecrets removes the named app secrets; names not set are not
	// an error.
	UnsetSecrets(ctx context.Context, app string, names ...string) error
}

// Secret is an app secret as Fly lists it, without its value.
type Secret struct {
	Name string
	// CreatedAt is when Fly recorded the secret; zero when Fly did not say.
	CreatedAt time.Time
}

// Factory builds the Client the manager uses, so tests can swap in a
// client aimed at the Fly stand-in.
type Factory func(ctx context.Context) (Client, error)
