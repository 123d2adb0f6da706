// Package webhook tells Fly about changes to extensions: signed POSTs to
// Fly's per-provider webhook URL, with the same resource shape as GET.
package webhook

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jetway-dev/jetway/internal/domain"
	"github.com/jetway-dev/jetway/internal/signing"
)

// Actions Fly understands.
const (
	ActionCreated = "resource.created"
	ActionUpdated = "resource.updated"
	ActionDeleted = "resource.deleted"
)

// Body is a webhook's body. Fly's docs ask for timestamp (a string), action
// and resource; nonce and url make a replayed or redirected request
// detectable, and delivery_id lets Fly drop the duplicates that
// at-least-once delivery makes. All of it is covered by the signature.
type Body struct {
	Timestamp  string          `json:"timestamp"`
	Nonce      string          `json:"nonce"`
	URL        string          `json:"url"`
	DeliveryID string          `json:"delivery_id"`
	Action     string          `json:"action"`
	Resource   domain.Resource `json:"resource"`
}

// Sender posts signed webhooks.
type Sender struct {
	URL    string
	Secret []byte
	HTTP   *http.Client
	Now    func() time.Time
}

// Error is a delivery Fly did not accept.
type Error struct {
	Status     int           // 0 when no answer came
	RetryAfter time.Duration // from Retry-After, when Fly sent one
	Message    string
}

func (e *Error) Error() string {
	if e.Status == 0 {
		return "webhook not delivered: " + e.Message
	}
	return fmt.Sprintf("webhook answered HTTP %d: %s", e.Status, e.Message)
}

// Send delivers one attempt. Every attempt is signed anew (fresh nonce and
// timestamp); the delivery id stays the same.
func (s *Sender) Send(ctx context.Context, deliveryID, action string, res domain.Resource) error {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return fmt.Errorf("webhook nonce: %w", err)
	}
	body, err := json.Marshal(Body{
		Timestamp: strconv.FormatInt(now().Unix(), 10), Nonce: hex.EncodeToString(nonce), URL: s.URL,
		DeliveryID: deliveryID, Action: action, Resource: res,
	})
	if err != nil {
		return fmt.Errorf("encode webhook: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature", signing.Sign(s.Secret, body))
	client := s.HTTP
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return &Error{Message: err.Error()}
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	e := &Error{Status: resp.StatusCode, Message: strings.TrimSpace(string(answer))}
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
		e.RetryAfter = time.Duration(secs) * time.Second
	}
	return e
}

// Digest fingerprints what a notification tells Fly, so that a change is
// noticed exactly once: the status word (and its message), plan, name and
// regions. Nothing else in the resource is worth a webhook.
func Digest(action string, r domain.Resource) string {
	return CredentialsDigest(action, r, "")
}

// CredentialsDigest is Digest of a notification that also carries the
// config of rotated credentials of the given revision ("" for none). The
// revision stands for the config: a digest of the config itself, kept in
// status, would let whoever reads Extensions test guesses of the password.
func CredentialsDigest(action string, r domain.Resource, credentialsRevision string) string {
	fields := []any{action == ActionDeleted, r.Status, r.ErrorMessage, r.Plan, r.Name, r.PrimaryRegion, r.ReadRegions}
	if credentialsRevision != "" {
		fields = append(fields, credentialsRevision)
	}
	b, _ := json.Marshal(fields)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}
