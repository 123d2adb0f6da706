package domain

import (
	"context"
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

// TestRotationIsCarriedOutOnceAndRevokedOnce: a rotation writes the Secret
// once however often it is carried out (a pass retried after a lost status
// write must not issue a second password and drop the one Fly's customer
// holds), a new one is refused while the previous password is valid, and a
// revocation removes only that.
func TestRotationIsCarriedOutOnceAndRevokedOnce(t *testing.T) {
	ctx := context.Background()
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	key := client.ObjectKey{Namespace: "fly-o1", Name: "db-credentials"}
	c := fake.NewClientBuilder().WithScheme(s).WithObjects(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: key.Namespace},
		Data:       map[string][]byte{SecretKeyUsername: []byte("db"), SecretKeyPassword: []byte("first")},
	}).Build()
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

	rotated, err := RotateCredentials(ctx, c, c, key, "r1", now)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.Password == "first" || rotated.Previous != "first" || rotated.Rotation != "r1" || rotated.Revision == "" || !rotated.RotatedAt.Equal(now) {
		t.Fatalf("after rotating: previous %q, rotation %q, revision %q, at %s", rotated.Previous, rotated.Rotation, rotated.Revision, rotated.RotatedAt)
	}
	again, err := RotateCredentials(ctx, c, c, key, "r1", now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if again.Password != rotated.Password || again.Revision != rotated.Revision {
		t.Fatal("carrying out the same rotation again changed the credentials")
	}
	if _, err := RotateCredentials(ctx, c, c, key, "r2", now); !errors.Is(err, ErrPreviousStillValid) {
		t.Fatalf("a second rotation before revocation: err %v, want ErrPreviousStillValid", err)
	}

	revoked, err := RevokePreviousCredentials(ctx, c, c, key, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if revoked.Previous != "" || revoked.Password != rotated.Password || revoked.Revision == rotated.Revision || !revoked.PreviousRevokedAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("after revoking: previous kept %v, password kept %v, revision moved %v, at %s",
			revoked.Previous != "", revoked.Password == rotated.Password, revoked.Revision != rotated.Revision, revoked.PreviousRevokedAt)
	}
	if twice, _ := RevokePreviousCredentials(ctx, c, c, key, now.Add(2*time.Hour)); twice.Revision != revoked.Revision {
		t.Fatal("revoking again changed the credentials")
	}
	next, err := RotateCredentials(ctx, c, c, key, "r2", now.Add(3*time.Hour))
	if err != nil || next.Previous != rotated.Password || !next.PreviousRevokedAt.IsZero() {
		t.Fatalf("the next rotation after revocation: err %v, previous is the last password %v, revoked-at cleared %v",
			err, next.Previous == rotated.Password, next.PreviousRevokedAt.IsZero())
	}
}
