package fly

import (
	"context"
	"errors"

	fly "github.com/superfly/fly-go"
)

// ListVolumes uses fly-go's GetVolumes, which leaves out volumes Fly is
// destroying: those can neither be mounted nor deleted again.
func (c *flapsClient) ListVolumes(ctx context.Context, app string) ([]Volume, error) {
	var vols []Volume
	err := c.call(ctx, func(ctx context.Context) (err error) {
		vols, err = c.flaps.GetVolumes(ctx, app)
		return err
	})
	return vols, err
}

func (c *flapsClient) CreateVolume(ctx context.Context, app string, req fly.CreateVolumeRequest) (*Volume, error) {
	var v *Volume
	err := c.call(ctx, func(ctx context.Context) (err error) {
		v, err = c.flaps.CreateVolume(ctx, app, req)
		return err
	})
	return v, err
}

func (c *flapsClient) ExtendVolume(ctx context.Context, app, id string, sizeGB int) (*Volume, bool, error) {
	var v *Volume
	var restart bool
	err := c.call(ctx, func(ctx context.Context) (err error) {
		v, restart, err = c.flaps.ExtendVolume(ctx, app, id, sizeGB)
		return err
	})
	return v, restart, err
}

func (c *flapsClient) DeleteVolume(ctx context.Context, app, id string) error {
	err := c.call(ctx, func(ctx context.Context) error {
		_, err := c.flaps.DeleteVolume(ctx, app, id)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

func (c *flapsClient) ListVolumeSnapshots(ctx context.Context, app, volumeID string) ([]VolumeSnapshot, error) {
	var snaps []VolumeSnapshot
	err := c.call(ctx, func(ctx context.Context) (err error) {
		snaps, err = c.flaps.GetVolumeSnapshots(ctx, app, volumeID)
		return err
	})
	return snaps, err
}

func (c *flapsClient) CreateVolumeSnapshot(ctx context.Context, app, volumeID string) error {
	return c.call(ctx, func(ctx context.Context) error {
		return c.flaps.CreateVolumeSnapshot(ctx, app, volumeID)
	})
}
