package events

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	fly "github.com/superfly/fly-go"

	"github.com/jetway-dev/jetway/internal/dev/flysign"
)

// TypePrefix prefixes the machine's state in ce-type.
const TypePrefix = "io.fly.machine."

// SigningMessage is the message an event's X-Signature is the HMAC of: its
// id, type, source and time as sent in the ce- headers, each followed by a
// newline, then the raw body (flysign.EventMessage).
func SigningMessage(id, typ, source, timeStr string, body []byte) []byte {
	return flysign.EventMessage(id, typ, source, timeStr, body)
}

// Body is the JSON body of a machine event.
type Body struct {
	MachineID string         `json:"machine_id"`
	AppName   string         `json:"app_name"`
	Status    string         `json:"status"`
	Data      map[string]any `json:"data"`
}

// Change is a machine state change to tell the provider about.
type Change struct {
	App       string
	MachineID string
	State     string
	// Cause is the machine event that recorded the change: its type and
	// source, and for a crash the exit in Request.ExitEvent.
	Cause fly.MachineEvent
	At    time.Time
}

// crashTransition is the flyd step a crash is reported in. Fly's sample
// names "prepareImage"; the name of the step that watches a running
// machine is the simulator's guess.
const crashTransition = "monitor"

// data is the data of c's event: the machine event that recorded the
// change, or for failed, why.
func data(c Change) map[string]any {
	if c.State == "failed" {
		reason := "machine failed"
		if req := c.Cause.Request; req != nil && req.ExitEvent != nil {
			reason = exitReason(req.ExitEvent.ExitCode, req.ExitEvent.Signal, req.ExitEvent.OOMKilled)
		}
		return map[string]any{"Error": reason, "Transition": crashTransition}
	}
	return map[string]any{"event": c.Cause.Type, "source": c.Cause.Source}
}

func exitReason(code, signal int, oom bool) string {
	switch {
	case oom:
		return fmt.Sprintf("process was killed: out of memory (exit code %d)", code)
	case signal != 0:
		return fmt.Sprintf("process exited with code %d (signal %d)", code, signal)
	default:
		return fmt.Sprintf("process exited with code %d", code)
	}
}

// newEventID returns a random UUID (version 4). It does not draw from any
// seeded generator, so turning events on changes no machine id.
func newEventID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("flysim: no randomness for an event id: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
