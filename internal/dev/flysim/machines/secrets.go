package machines

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"time"

	fly "github.com/superfly/fly-go"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/respond"
)

// App secrets. Every write bumps the app's secrets version, which machines
// can demand with min_secrets_version. Values are only returned when the
// caller asks with show_secrets=true.

type secret struct {
	value     string
	createdAt time.Time
	updatedAt time.Time
}

// Secrets become environment variables, so their names must be valid ones.
var secretNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func validSecretName(name string) error {
	if !secretNameRE.MatchString(name) {
		return fmt.Errorf("invalid secret name %q: use letters, digits and underscores, not starting with a digit", name)
	}
	return nil
}

// digest is a stable fingerprint that reveals nothing useful about the value.
func digest(value string) string {
	sum := sha256.Sum256([]byte(value))
	return fmt.Sprintf("%x", sum[:8])
}

func secretView(name string, sec *secret, show bool) fly.AppSecret {
	created := sec.createdAt.Format(time.RFC3339)
	updated := sec.updatedAt.Format(time.RFC3339)
	out := fly.AppSecret{Name: name, Digest: digest(sec.value), CreatedAt: &created, UpdatedAt: &updated}
	if show {
		v := sec.value
		out.Value = &v
	}
	return out
}

func sortedSecretViews(a *app, show bool) []fly.AppSecret {
	names := make([]string, 0, len(a.secrets))
	for n := range a.secrets {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]fly.AppSecret, 0, len(names))
	for _, n := range names {
		out = append(out, secretView(n, a.secrets[n], show))
	}
	return out
}

// readOptions parses ?version= and ?show_secrets=. A version newer than the
// app's is refused: the caller is asking for writes that never happened.
func readOptions(r *http.Request, a *app) (bool, respond.Reply, bool) {
	show, err := parseBoolParam(r, "show_secrets")
	if err != nil {
		return false, respond.BadBody(err), false
	}
	if v := r.URL.Query().Get("version"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return false, respond.BadBody(fmt.Errorf("version %q is not a number", v)), false
		}
		if n > a.secretsVersion {
			return false, respond.Err(http.StatusPreconditionFailed, fmt.Sprintf("failed_precondition: secrets version %d not reached, current version is %d", n, a.secretsVersion)), false
		}
	}
	return show, respond.Reply{}, true
}

func (s *Server) listSecrets(r *http.Request) respond.Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, rp := s.appLocked(r)
	if a == nil {
		return rp
	}
	show, rp, ok := readOptions(r, a)
	if !ok {
		return rp
	}
	return respond.JSON(http.StatusOK, fly.ListAppSecretsResp{Secrets: sortedSecretViews(a, show)})
}

func (s *Server) getSecret(r *http.Request) respond.Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, rp := s.appLocked(r)
	if a == nil {
		return rp
	}
	show, rp, ok := readOptions(r, a)
	if !ok {
		return rp
	}
	name := r.PathValue("name")
	sec := a.secrets[name]
	if sec == nil {
		return respond.Err(http.StatusNotFound, "secret not found")
	}
	return respond.JSON(http.StatusOK, secretView(name, sec, show))
}

// updateSecrets applies a batch atomically: nil values delete, the rest set.
// One version bump per batch, as on Fly.
func (s *Server) updateSecrets(r *http.Request) respond.Reply {
	var in fly.UpdateAppSecretsRequest
	if err := respond.DecodeBody(r, &in, true); err != nil {
		return respond.BadBody(err)
	}
	if len(in.Values) == 0 {
		return respond.BadBody(errors.New("values must name at least one secret"))
	}
	for name := range in.Values {
		if err := validSecretName(name); err != nil {
			return respond.BadBody(err)
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	a, rp := s.appLocked(r)
	if a == nil {
		return rp
	}
	now := s.now()
	for name, v := range in.Values {
		if v == nil {
			delete(a.secrets, name)
			continue
		}
		s.putSecretLocked(a, name, *v, now)
	}
	a.secretsVersion++
	return respond.JSON(http.StatusOK, fly.UpdateAppSecretsResp{Secrets: sortedSecretViews(a, false), Version: a.secretsVersion})
}

func (s *Server) setSecret(r *http.Request) respond.Reply {
	name := r.PathValue("name")
	if err := validSecretName(name); err != nil {
		return respond.BadBody(err)
	}
	value, bad := decodeValue(r)
	if bad != nil {
		return *bad
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	a, rp := s.appLocked(r)
	if a == nil {
		return rp
	}
	s.putSecretLocked(a, name, value, s.now())
	a.secretsVersion++
	return respond.JSON(http.StatusOK, fly.SetAppSecretResp{AppSecret: secretView(name, a.secrets[name], false), Version: a.secretsVersion})
}

func (s *Server) deleteSecret(r *http.Request) respond.Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, rp := s.appLocked(r)
	if a == nil {
		return rp
	}
	name := r.PathValue("name")
	if a.secrets[name] == nil {
		return respond.Err(http.StatusNotFound, "secret not found")
	}
	delete(a.secrets, name)
	a.secretsVersion++
	return respond.JSON(http.StatusOK, fly.DeleteAppSecretResp{Version: a.secretsVersion})
}

func (s *Server) putSecretLocked(a *app, name, value string, now time.Time) {
	if sec := a.secrets[name]; sec != nil {
		sec.value = value
		sec.updatedAt = now
		return
	}
	a.secrets[name] = &secret{value: value, createdAt: now, updatedAt: now}
}
