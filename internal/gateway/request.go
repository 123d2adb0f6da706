package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
)

// signedFields travel in the body only to be signed; they are not part of
// the extension.
var signedFields = map[string]bool{"url": true, "nonce": true, "timestamp": true}

var regionPattern = regexp.MustCompile(`^[a-z]{3}$`)

// provisionRequest is a decoded POST or PATCH body. Pointers tell "absent"
// from "empty", which PATCH needs.
type provisionRequest struct {
	ID               *string
	Name             *string
	OrganizationID   *string
	OrganizationName *string
	UserID           *string
	UserEmail        *string
	UserRole         *string
	PrimaryRegion    *string
	ReadRegions      *[]string
	IPAddress        *string
	Plan             *string
	Options          json.RawMessage
	Extra            map[string]json.RawMessage
	// RequestedName is the name Fly asked for when the plan gave the
	// extension another (claimName); not read from the request.
	RequestedName string
	// SecretOptions are the options the plan keeps in a Secret, taken out
	// of Options (checkOptions); not read from the request.
	SecretOptions domain.Options
}

// badRequest is a client error with a stable code and a readable message.
type badRequest struct {
	status  int
	code    string
	message string
}

func (e *badRequest) Error() string { return e.message }

func invalid(format string, args ...any) *badRequest {
	return &badRequest{status: 400, code: "invalid_request", message: fmt.Sprintf(format, args...)}
}

// decodeRequest parses a body into a provisionRequest, naming the field
// that is wrong when a type does not match.
func decodeRequest(body []byte) (*provisionRequest, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil || raw == nil {
		return nil, &badRequest{status: 400, code: "invalid_json", message: "The request body must be a JSON object."}
	}
	if dec.More() {
		return nil, &badRequest{status: 400, code: "invalid_json", message: "The request body must hold exactly one JSON object."}
	}
	req := &provisionRequest{Extra: map[string]json.RawMessage{}}
	strs := map[string]**string{
		"id": &req.ID, "name": &req.Name, "organization_id": &req.OrganizationID, "organization_name": &req.OrganizationName,
		"user_id": &req.UserID, "user_email": &req.UserEmail, "user_role": &req.UserRole,
		"primary_region": &req.PrimaryRegion, "ip_address": &req.IPAddress, "plan": &req.Plan,
	}
	for key, value := range raw {
		switch {
		case signedFields[key]:
		case strs[key] != nil:
			if isNull(value) {
				continue
			}
			var s string
			if err := json.Unmarshal(value, &s); err != nil {
				return nil, invalid("Field %q must be a string.", key)
			}
			*strs[key] = &s
		case key == "read_regions":
			if isNull(value) {
				empty := []string{}
				req.ReadRegions = &empty
				continue
			}
			var regions []string
			if err := json.Unmarshal(value, &regions); err != nil {
				return nil, invalid("Field \"read_regions\" must be an array of region codes.")
			}
			req.ReadRegions = &regions
		case key == "options":
			if !isNull(value) {
				req.Options = value
			}
		default:
			req.Extra[key] = value
		}
	}
	return req, nil
}

func isNull(v json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }

// validateCreate checks a POST: the fields Fly always sends are present and
// every field has a shape the spec accepts, so a bad request changes nothing.
func (s *Server) validateCreate(req *provisionRequest) error {
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{
		{"id", req.ID, 128}, {"name", req.Name, 63}, {"organization_id", req.OrganizationID, 128}, {"user_id", req.UserID, 128},
	} {
		if f.v == nil || strings.TrimSpace(*f.v) == "" {
			return invalid("Field %q is required.", f.name)
		}
		if len(*f.v) > f.max || !utf8.ValidString(*f.v) || strings.ContainsAny(*f.v, "\x00\n\r\t") {
			return invalid("Field %q must be printable text of at most %d bytes.", f.name, f.max)
		}
	}
	if req.PrimaryRegion == nil || *req.PrimaryRegion == "" {
		r := s.cfg.DefaultRegion
		req.PrimaryRegion = &r
	}
	return validateMutable(req)
}

// validateMutable checks the fields both POST and PATCH may carry.
func validateMutable(req *provisionRequest) error {
	if req.PrimaryRegion != nil && !regionPattern.MatchString(*req.PrimaryRegion) {
		return invalid("Field \"primary_region\" must be a three-letter Fly region code such as \"iad\".")
	}
	if req.UserRole != nil && *req.UserRole != "" && *req.UserRole != "admin" && *req.UserRole != "member" {
		return invalid("Field \"user_role\" must be \"admin\" or \"member\".")
	}
	if req.ReadRegions != nil {
		if len(*req.ReadRegions) > 32 {
			return invalid("Field \"read_regions\" may name at most 32 regions.")
		}
		for _, r := range *req.ReadRegions {
			if !regionPattern.MatchString(r) {
				return invalid("Read region %q is not a three-letter Fly region code.", r)
			}
		}
		regions := dedupe(*req.ReadRegions)
		req.ReadRegions = &regions
	}
	if req.IPAddress != nil && *req.IPAddress != "" {
		addr, err := netip.ParseAddr(*req.IPAddress)
		if err != nil || !addr.Is6() || addr.Is4In6() {
			return invalid("Field \"ip_address\" must be an IPv6 address.")
		}
	}
	if req.Plan != nil && len(*req.Plan) > 253 {
		return invalid("Field \"plan\" is too long.")
	}
	if req.Options != nil {
		if trimmed := bytes.TrimSpace(req.Options); len(trimmed) == 0 || trimmed[0] != '{' {
			return invalid("Field \"options\" must be a JSON object.")
		}
	}
	return nil
}

// dedupe keeps the first occurrence of each region, in order.
func dedupe(in []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, r := range in {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

// extraJSON renders the unknown fields as one JSON object, keys sorted so
// identical requests make identical objects.
func extraJSON(extra map[string]json.RawMessage) *apiextensionsv1.JSON {
	if len(extra) == 0 {
		return nil
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(compact(extra[k]))
	}
	buf.WriteByte('}')
	return &apiextensionsv1.JSON{Raw: buf.Bytes()}
}

func compact(raw json.RawMessage) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return raw
	}
	return buf.Bytes()
}

func optionsJSON(raw json.RawMessage) *apiextensionsv1.JSON {
	if raw == nil {
		return nil
	}
	return &apiextensionsv1.JSON{Raw: compact(raw)}
}

// specFrom builds a new Extension spec from a validated POST.
func specFrom(req *provisionRequest, plan string) jetwayv1.ExtensionSpec {
	spec := jetwayv1.ExtensionSpec{
		ID:            *req.ID,
		Name:          *req.Name,
		Organization:  jetwayv1.OrganizationRef{ID: *req.OrganizationID, Name: deref(req.OrganizationName)},
		User:          &jetwayv1.ProvisioningUser{ID: *req.UserID, Email: deref(req.UserEmail), Role: deref(req.UserRole)},
		PrimaryRegion: *req.PrimaryRegion,
		IPAddress:     deref(req.IPAddress),
		Plan:          plan,
		Options:       optionsJSON(req.Options),
		ExtraFields:   extraJSON(req.Extra),
	}
	if req.ReadRegions != nil {
		spec.ReadRegions = *req.ReadRegions
	}
	return spec
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
