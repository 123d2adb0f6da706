package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/dev/testbin"
	"github.com/jetway-dev/jetway/internal/manager"
)

var tokenPattern = regexp.MustCompile(`^r\d{8}T\d{6}Z-[0-9a-f]{8}$`)

// TestRotate runs `jetway rotate` in-process against a real API server,
// playing the controller by writing status itself.
func TestRotate(t *testing.T) {
	env := &envtest.Environment{
		BinaryAssetsDirectory: testbin.Assets(t),
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		t.Fatalf("start envtest: %v", err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	restConfigFor = func(string) (*rest.Config, error) { return cfg, nil }
	rotateWaitPoll = 50 * time.Millisecond
	k8s, err := client.New(cfg, client.Options{Scheme: manager.NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	h := &rotateHarness{t: t, c: k8s}

	t.Run("rotate sets a well-formed token and says what comes next", func(t *testing.T) {
		key := h.extension("rot-new", "db", "fly-new")
		out, err := h.run("rotate", "db", "-n", key.Namespace)
		if err != nil {
			t.Fatalf("rotate: %v", err)
		}
		token := h.get(key).Annotations[jetwayv1.AnnotationRotateCredentials]
		if !tokenPattern.MatchString(token) {
			t.Fatalf("token %q does not match %s", token, tokenPattern)
		}
		for _, want := range []string{token, "jetway rotate --revoke db -n rot-new", "AfterOverlap", `{.status.conditions[?(@.type=="CredentialsRotated")]}`} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("a second rotate before the first is carried out is refused", func(t *testing.T) {
		key := h.extension("rot-twice", "db", "fly-twice")
		if _, err := h.run("rotate", "db", "-n", key.Namespace); err != nil {
			t.Fatal(err)
		}
		first := h.get(key).Annotations[jetwayv1.AnnotationRotateCredentials]
		_, err := h.run("rotate", "db", "-n", key.Namespace)
		if err == nil || !strings.Contains(err.Error(), "not carried out") {
			t.Fatalf("second rotate: err = %v, want refusal", err)
		}
		if got := h.get(key).Annotations[jetwayv1.AnnotationRotateCredentials]; got != first {
			t.Fatalf("annotation changed from %q to %q", first, got)
		}
	})

	t.Run("rotate is refused while the replaced credentials are valid, then allowed once revoked", func(t *testing.T) {
		key := h.extension("rot-overlap", "db", "fly-overlap")
		if _, err := h.run("rotate", "db", "-n", key.Namespace); err != nil {
			t.Fatal(err)
		}
		token := h.get(key).Annotations[jetwayv1.AnnotationRotateCredentials]
		h.status(key, token, false, jetwayv1.ReasonAwaitingRevocation)
		_, err := h.run("rotate", "db", "-n", key.Namespace)
		if err == nil || !strings.Contains(err.Error(), "jetway rotate --revoke db -n rot-overlap") {
			t.Fatalf("rotate during overlap: err = %v, want one naming --revoke", err)
		}
		h.status(key, token, true, jetwayv1.ReasonRotationComplete)
		if _, err := h.run("rotate", "db", "-n", key.Namespace); err != nil {
			t.Fatalf("rotate after revocation: %v", err)
		}
		if got := h.get(key).Annotations[jetwayv1.AnnotationRotateCredentials]; got == token || !tokenPattern.MatchString(got) {
			t.Fatalf("annotation after the new rotation = %q, want a new token", got)
		}
	})

	t.Run("--revoke confirms the current rotation", func(t *testing.T) {
		key := h.extension("rev-confirm", "db", "fly-confirm")
		if _, err := h.run("rotate", "db", "-n", key.Namespace); err != nil {
			t.Fatal(err)
		}
		token := h.get(key).Annotations[jetwayv1.AnnotationRotateCredentials]
		h.status(key, token, false, jetwayv1.ReasonAnnouncingCredentials)
		out, err := h.run("rotate", "--revoke", "db", "-n", key.Namespace)
		if err != nil {
			t.Fatalf("revoke: %v", err)
		}
		if got := h.get(key).Annotations[jetwayv1.AnnotationRevokePreviousCredentials]; got != token {
			t.Fatalf("%s = %q, want %q", jetwayv1.AnnotationRevokePreviousCredentials, got, token)
		}
		if !strings.Contains(out, "once Fly has answered the new config") {
			t.Errorf("output during AnnouncingCredentials does not say the revocation waits for Fly:\n%s", out)
		}
	})

	t.Run("--revoke with no rotation is an error", func(t *testing.T) {
		key := h.extension("rev-none", "db", "fly-none")
		_, err := h.run("rotate", "--revoke", "db", "-n", key.Namespace)
		if err == nil || !strings.Contains(err.Error(), "no rotation to confirm") {
			t.Fatalf("err = %v, want no rotation to confirm", err)
		}
		if _, ok := h.get(key).Annotations[jetwayv1.AnnotationRevokePreviousCredentials]; ok {
			t.Fatal("revoke annotation written without a rotation")
		}
	})

	t.Run("--revoke after the revocation writes nothing and succeeds", func(t *testing.T) {
		key := h.extension("rev-done", "db", "fly-done")
		if _, err := h.run("rotate", "db", "-n", key.Namespace); err != nil {
			t.Fatal(err)
		}
		token := h.get(key).Annotations[jetwayv1.AnnotationRotateCredentials]
		h.status(key, token, true, jetwayv1.ReasonRotationComplete)
		out, err := h.run("rotate", "--revoke", "db", "-n", key.Namespace)
		if err != nil || !strings.Contains(out, "already revoked") {
			t.Fatalf("err = %v, output:\n%s", err, out)
		}
		if _, ok := h.get(key).Annotations[jetwayv1.AnnotationRevokePreviousCredentials]; ok {
			t.Fatal("revoke annotation written after the revocation")
		}
	})

	t.Run("--id finds the extension across namespaces", func(t *testing.T) {
		h.extension("id-a", "db", "fly-id-a")
		key := h.extension("id-b", "other", "fly-id-b")
		h.extension("id-dup1", "db", "fly-id-dup")
		h.extension("id-dup2", "db", "fly-id-dup")
		if _, err := h.run("rotate", "--id", "fly-id-b"); err != nil {
			t.Fatalf("rotate --id: %v", err)
		}
		if !tokenPattern.MatchString(h.get(key).Annotations[jetwayv1.AnnotationRotateCredentials]) {
			t.Fatal("rotate --id did not annotate id-b/other")
		}
		if _, ok := h.get(types.NamespacedName{Namespace: "id-a", Name: "db"}).Annotations[jetwayv1.AnnotationRotateCredentials]; ok {
			t.Fatal("rotate --id annotated another extension")
		}
		if _, err := h.run("rotate", "--id", "fly-id-missing"); err == nil || !strings.Contains(err.Error(), "no Extension") {
			t.Fatalf("unknown id: err = %v", err)
		}
		if _, err := h.run("rotate", "--id", "fly-id-dup"); err == nil || !strings.Contains(err.Error(), "2 Extensions") {
			t.Fatalf("duplicate id: err = %v", err)
		}
	})

	t.Run("--wait returns once the controller reaches the step", func(t *testing.T) {
		key := h.extension("wait-ok", "db", "fly-wait-ok")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		go h.playController(ctx, key)
		out, err := h.run("rotate", "db", "-n", key.Namespace, "--wait", "5s")
		if err != nil {
			t.Fatalf("rotate --wait: %v\n%s", err, out)
		}
		if strings.Count(out, "Fly acknowledged the new config") != 1 {
			t.Errorf("want the condition message printed once:\n%s", out)
		}
	})

	t.Run("--wait times out naming the last reason", func(t *testing.T) {
		key := h.extension("wait-timeout", "db", "fly-wait-timeout")
		start := time.Now()
		_, err := h.run("rotate", "db", "-n", key.Namespace, "--wait", "500ms")
		if err == nil || !strings.Contains(err.Error(), "timed out") || !strings.Contains(err.Error(), "no CredentialsRotated condition") {
			t.Fatalf("err = %v, want a timeout", err)
		}
		if time.Since(start) > 3*time.Second {
			t.Fatalf("took %s to time out after 500ms", time.Since(start))
		}
		token := h.get(key).Annotations[jetwayv1.AnnotationRotateCredentials]
		h.status(key, token, false, jetwayv1.ReasonRollingCredentials)
		_, err = h.run("rotate", "--revoke", "db", "-n", key.Namespace, "--wait", "300ms")
		if err == nil || !strings.Contains(err.Error(), "last reason: "+jetwayv1.ReasonRollingCredentials) {
			t.Fatalf("revoke --wait: err = %v, want a timeout naming %s", err, jetwayv1.ReasonRollingCredentials)
		}
	})
}

type rotateHarness struct {
	t *testing.T
	c client.Client
}

// run executes the jetway command line in-process and returns its output.
func (h *rotateHarness) run(args ...string) (string, error) {
	var out bytes.Buffer
	root := newRootCommand()
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

// extension creates namespace ns (if new) and a minimal Extension in it.
func (h *rotateHarness) extension(ns, name, flyID string) types.NamespacedName {
	h.t.Helper()
	ctx := context.Background()
	if err := h.c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); client.IgnoreAlreadyExists(err) != nil {
		h.t.Fatal(err)
	}
	ext := &jetwayv1.Extension{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: jetwayv1.ExtensionSpec{
			ID: flyID, Name: name + "-" + ns,
			Organization:  jetwayv1.OrganizationRef{ID: "org-1"},
			PrimaryRegion: "iad",
		},
	}
	if err := h.c.Create(ctx, ext); err != nil {
		h.t.Fatal(err)
	}
	return client.ObjectKeyFromObject(ext)
}

func (h *rotateHarness) get(key types.NamespacedName) *jetwayv1.Extension {
	h.t.Helper()
	var ext jetwayv1.Extension
	if err := h.c.Get(context.Background(), key, &ext); err != nil {
		h.t.Fatal(err)
	}
	return &ext
}

// status writes what the controller would: rotation carried out, whether
// the replaced credentials are revoked, and the condition's reason.
func (h *rotateHarness) status(key types.NamespacedName, rotation string, revoked bool, reason string) {
	h.t.Helper()
	if err := writeRotationStatus(context.Background(), h.c, key, rotation, revoked, reason); err != nil {
		h.t.Fatal(err)
	}
}

// playController waits for a rotation to be asked for, then reports it
// rolling and then acknowledged by Fly, as the controller would.
func (h *rotateHarness) playController(ctx context.Context, key types.NamespacedName) {
	for ctx.Err() == nil {
		var ext jetwayv1.Extension
		if err := h.c.Get(ctx, key, &ext); err == nil {
			if token := ext.Annotations[jetwayv1.AnnotationRotateCredentials]; token != "" {
				if writeRotationStatus(ctx, h.c, key, token, false, jetwayv1.ReasonRollingCredentials) != nil {
					return
				}
				time.Sleep(200 * time.Millisecond)
				_ = writeRotationStatus(ctx, h.c, key, token, false, jetwayv1.ReasonAwaitingRevocation)
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func writeRotationStatus(ctx context.Context, c client.Client, key types.NamespacedName, rotation string, revoked bool, reason string) error {
	var ext jetwayv1.Extension
	if err := c.Get(ctx, key, &ext); err != nil {
		return err
	}
	creds := &jetwayv1.CredentialsStatus{Rotation: &rotation}
	if revoked {
		creds.PreviousRevokedAt = &metav1.Time{Time: time.Now()}
	}
	ext.Status.Credentials = creds
	messages := map[string]string{
		jetwayv1.ReasonRollingCredentials:    "Machines are restarting onto the new credentials",
		jetwayv1.ReasonAnnouncingCredentials: "Sending Fly the new config",
		jetwayv1.ReasonAwaitingRevocation:    "Fly acknowledged the new config",
		jetwayv1.ReasonRotationComplete:      "Only the newest credentials are valid",
	}
	meta.SetStatusCondition(&ext.Status.Conditions, metav1.Condition{
		Type: jetwayv1.ConditionCredentialsRotated, Status: metav1.ConditionFalse,
		Reason: reason, Message: messages[reason],
	})
	return c.Status().Update(ctx, &ext)
}
