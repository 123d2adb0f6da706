package domain

import (
	corev1 "k8s.io/api/core/v1"
)

// MachineRef names a Fly machine as the "related" object of a Kubernetes
// Event. Events about one Extension with the same reason and action are
// folded into one series unless their related objects differ, so without
// it "Created machine A" and "Created machine B" would show as one event,
// with A's note, counted twice.
func MachineRef(id string) *corev1.ObjectReference {
	return &corev1.ObjectReference{APIVersion: "machines.fly.io/v1", Kind: "Machine", Name: id}
}

// VolumeRef names a Fly volume as an event's related object, as MachineRef
// names a machine.
func VolumeRef(id string) *corev1.ObjectReference {
	return &corev1.ObjectReference{APIVersion: "machines.fly.io/v1", Kind: "Volume", Name: id}
}
