package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
)

// machineEvent is the data of Fly's io.fly.machine.* events.
type machineEvent struct {
	MachineID string         `json:"machine_id"`
	AppName   string         `json:"app_name"`
	Status    string         `json:"status"`
	Data      map[string]any `json:"data"`
}

// handleEvents takes machine events from Fly as CloudEvents, in binary or
// structured mode, as Fly sends them: Fly's page documents no signature, so
// by default none is asked for (Config.Events.Auth). An event is only a
// hint: it asks for a fresh look at Fly, at most once per extension per
// interval (hintLimiter, and the controller's own limit), so a forged or
// flooded event costs at most that look. Every well-formed event is
// acknowledged (202), even one about a machine Jetway does not know, so
// Fly does not retry it.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", "The event is larger than the provider accepts.")
			return
		}
		writeError(w, http.StatusBadRequest, "invalid_body", "The event body could not be read.")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	ev, err := cehttp.NewEventFromHTTPRequest(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_event", "The request is not a CloudEvent: "+err.Error())
		return
	}
	if !s.eventAuthentic(w, r, ev, body) {
		return
	}
	if !strings.HasPrefix(ev.Type(), "io.fly.machine.") {
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "ignored", "reason": "not a machine event"})
		return
	}
	var data machineEvent
	if err := json.Unmarshal(ev.Data(), &data); err != nil || data.MachineID == "" {
		writeError(w, http.StatusBadRequest, "invalid_event", "A machine event's data must be a JSON object with machine_id.")
		return
	}
	if data.Status == "" {
		data.Status = strings.TrimPrefix(ev.Type(), "io.fly.machine.")
	}
	if data.AppName == "" {
		data.AppName = appOfSource(ev.Source())
	}
	ext, err := s.extensionOfMachine(r, data)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if ext == nil {
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "ignored", "reason": "unknown machine"})
		return
	}
	folded, err := s.hints.hint(r.Context(), objectKey(ext), data)
	if err != nil {
		s.internalError(w, r, fmt.Errorf("poke extension: %w", err))
		return
	}
	if folded {
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "accepted", "look": "folded into the next look"})
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "accepted"})
}

// appOfSource reads the app from a source like /apps/<app>/machines/<id>,
// for an event whose data names no app (Fly's sample has none).
func appOfSource(source string) string {
	parts := strings.Split(strings.Trim(source, "/"), "/")
	if len(parts) >= 2 && parts[0] == "apps" {
		return parts[1]
	}
	return ""
}

// extensionOfMachine finds the extension a machine belongs to: by the
// machine id in status, or, for a machine too new to be there, by its app.
func (s *Server) extensionOfMachine(r *http.Request, data machineEvent) (*jetwayv1.Extension, error) {
	var list jetwayv1.ExtensionList
	if err := s.client.List(r.Context(), &list, client.MatchingFields{domain.IndexMachineID: data.MachineID}); err != nil {
		return nil, fmt.Errorf("find extension of machine: %w", err)
	}
	if len(list.Items) == 0 && data.AppName != "" {
		if err := s.client.List(r.Context(), &list, client.MatchingFields{domain.IndexAppName: data.AppName}); err != nil {
			return nil, fmt.Errorf("find extension of app: %w", err)
		}
	}
	if len(list.Items) == 0 {
		return nil, nil
	}
	return &list.Items[0], nil
}

// recordMachineEvent makes the event visible with kubectl describe.
func (s *Server) recordMachineEvent(ext *jetwayv1.Extension, data machineEvent) {
	if s.recorder == nil {
		return
	}
	kind, note := "Normal", fmt.Sprintf("Fly reports machine %s is %s", data.MachineID, data.Status)
	if data.Status == "failed" {
		kind = "Warning"
		if msg, ok := data.Data["Error"].(string); ok && msg != "" {
			note += ": " + msg
		}
	}
	// The machine as related object and the status in the action keep
	// "machine A started" and "machine B started" (or A's starting and
	// started) from folding into one event series.
	action := "Fly:" + data.Status
	if len(action) > 128 { // the API server's limit on an event's action
		action = action[:128]
	}
	var related runtime.Object
	if data.MachineID != "" {
		related = domain.MachineRef(data.MachineID)
	}
	s.recorder.Eventf(ext, related, kind, "MachineEvent", action, "%s", note)
}
