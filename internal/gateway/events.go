package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/signing"
)

// AnnotationMachineEvent is set on an Extension when Fly reports one of its
// machines changed. It only pokes the Extension controller, which then reads
// the machines from Fly: an event is a hint, never the truth, so duplicate
// and out-of-order events cannot put a wrong state in status.
const AnnotationMachineEvent = "jetway.dev/machine-event"

// machineEvent is the data of Fly's io.fly.machine.* events.
type machineEvent struct {
	MachineID string         `json:"machine_id"`
	AppName   string         `json:"app_name"`
	Status    string         `json:"status"`
	Data      map[string]any `json:"data"`
}

// handleEvents takes machine events from Fly as CloudEvents, in binary or
// structured mode. Every well-formed, signed event is acknowledged (202),
// even one about a machine Jetway does not know, so Fly does not retry it.
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
	message := body
	if r.Header.Get("ce-id") != "" { // binary mode: attributes in headers
		message = signing.EventMessage(ev.ID(), ev.Type(), ev.Source(), r.Header.Get("ce-time"), body)
	}
	if !signing.Valid(s.cfg.Verifier.Secrets, message, r.Header.Get("X-Signature")) {
		s.reject(w, r, &signing.Error{Code: signing.CodeBadSignature, Message: "The X-Signature header is not a valid HMAC-SHA256 of the event with the shared secret."})
		return
	}
	now := time.Now()
	skew := s.cfg.Verifier.MaxSkew
	if skew <= 0 {
		skew = signing.DefaultMaxSkew
	}
	if ev.Time().IsZero() || ev.Time().Sub(now) > skew || now.Sub(ev.Time()) > skew {
		s.reject(w, r, &signing.Error{Code: signing.CodeStaleTimestamp, Message: "The event's time is missing or too far from the provider's clock."})
		return
	}
	if s.cfg.Verifier.Nonces != nil {
		fresh, err := s.cfg.Verifier.Nonces.Remember("ce:"+ev.Source()+":"+ev.ID(), now)
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		if !fresh {
			writeJSON(w, http.StatusAccepted, map[string]string{"status": "duplicate"})
			return
		}
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
	ext, err := s.extensionOfMachine(r, data)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if ext == nil {
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "ignored", "reason": "unknown machine"})
		return
	}
	s.recordMachineEvent(ext, data)
	patch := client.MergeFrom(ext.DeepCopy())
	if ext.Annotations == nil {
		ext.Annotations = map[string]string{}
	}
	ext.Annotations[AnnotationMachineEvent] = ev.Time().UTC().Format(time.RFC3339Nano)
	if err := s.client.Patch(r.Context(), ext, patch, fieldOwner); client.IgnoreNotFound(err) != nil {
		s.internalError(w, r, fmt.Errorf("poke extension: %w", err))
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "accepted"})
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
