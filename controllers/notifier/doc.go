// Package notifier is the webhook loop: it tells Fly about every change to
// an Extension, at least once, and owns status.notification and the
// FlyNotified condition (field manager extstatus.Notifier.Manager). It reads
// the rest of the status, which the Extension controller owns.
package notifier

import "github.com/jetway-dev/jetway/controllers/internal/extstatus"

// FieldOwner is the field manager of everything the notifier writes; the
// manager gives the notifier a client that writes as it.
var FieldOwner = extstatus.Notifier.Manager
