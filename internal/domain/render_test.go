package domain

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

func planWith(config map[string]string) *jetwayv1.ExtensionPlan {
	return &jetwayv1.ExtensionPlan{
		ObjectMeta: metav1.ObjectMeta{Name: "basic"},
		Spec:       jetwayv1.ExtensionPlanSpec{Image: "img", Connection: jetwayv1.ConnectionSpec{Port: 5432, Config: config}},
	}
}

func TestRenderConfig(t *testing.T) {
	ext := &jetwayv1.Extension{Spec: jetwayv1.ExtensionSpec{ID: "x1", Name: "collider-prod", PrimaryRegion: "mad", IPAddress: "fdaa:0:47fb:0:1::1d"}}
	plan := planWith(map[string]string{
		"LOGJAM_URL":  "postgres://{{.Username}}:{{.Password}}@{{.Host}}:{{.Port}}/db",
		"LOGJAM_HOST": "{{.Host}}",
	})
	data := DataFor(ext, plan, Credentials{Username: "collider-prod", Password: "s3cret"}, "jetway-x1-abc", "ext.example.com")
	got, err := RenderConfig(plan, data)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"LOGJAM_URL":  "postgres://collider-prod:s3cret@collider-prod.ext.example.com:5432/db",
		"LOGJAM_HOST": "collider-prod.ext.example.com",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
}

func TestRenderConfigErrorsNameTheKey(t *testing.T) {
	for name, tmpl := range map[string]string{
		"unknown field": "{{.Nope}}",
		"bad syntax":    "{{.Host",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := RenderConfig(planWith(map[string]string{"X_URL": tmpl}), TemplateData{})
			if err == nil || !strings.Contains(err.Error(), "X_URL") {
				t.Fatalf("want an error naming X_URL, got %v", err)
			}
		})
	}
}

func TestNewPasswordIsRandomAndURLSafe(t *testing.T) {
	a, _ := NewPassword()
	b, _ := NewPassword()
	if a == b || len(a) != 43 || strings.ContainsAny(a, "+/=") {
		t.Fatalf("passwords %q %q: want distinct 43-char URL-safe strings", a, b)
	}
}
