package integration

import (
	"net/http"
	"testing"

	"github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
)

// TestOptionsAreValidatedMergedAndReachTheMachines: a plan declares the
// options it takes. A request's options are checked against it (errors
// name the field), reach every machine as JETWAY_OPTION_*, the secret one
// stays out of the spec (in a Secret, and on Fly as an app secret), and a
// PATCH carrying one option leaves the others as they were.
func TestOptionsAreValidatedMergedAndReachTheMachines(t *testing.T) {
	g := newG(t)
	ctx := ctxFor(t)
	plan := rolloutPlan(t, func(s *jetwayv1.ExtensionPlanSpec) {
		s.OptionsSchema = &apiextensionsv1.JSON{Raw: []byte(`{"type":"object","additionalProperties":false,
			"properties":{"size":{"type":"string","enum":["small","large"]},"api-key":{"type":"string","minLength":8}}}`)}
		s.SecretOptions = []string{"api-key"}
	})
	id := uniqueID("opts")
	req := provisionRequest(id, "opts-"+id, uniqueID("org"))
	req["plan"] = plan.Name

	bad := map[string]any{}
	for k, v := range req {
		bad[k] = v
	}
	bad["options"] = map[string]any{"size": "huge"}
	resp, err := flyAPI.Create(ctx, bad)
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(resp.StatusCode).To(gomega.Equal(http.StatusUnprocessableEntity), "body: %s", resp.Body)
	g.Expect(jsonBody(t, resp)).To(gomega.HaveKeyWithValue("error", "invalid_options"))
	g.Expect(string(resp.Body)).To(gomega.ContainSubstring("options.size"))
	g.Expect(findExtension(ctx, id)).To(gomega.BeNil(), "a refused POST made nothing")

	req["options"] = map[string]any{"size": "small", "api-key": "first-key-123"}
	provision(t, req)
	cleanupExtension(t, id)
	ext := waitReady(t, id)
	g.Expect(string(ext.Spec.Options.Raw)).To(gomega.Equal(`{"size":"small"}`), "the secret option is not in the spec")
	secret := &corev1.Secret{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: ext.Namespace, Name: domain.OptionsSecretName(ext.Name)}, secret)).To(gomega.Succeed())
	g.Expect(string(secret.Data["api-key"])).To(gomega.Equal(`"first-key-123"`))
	envOf := func(key string) func() []string {
		return func() []string { return machineEnv(id, key) }
	}
	g.Eventually(envOf("JETWAY_OPTION_SIZE")).Should(gomega.HaveEach("small"))
	g.Eventually(func() string { return sim.Secrets(appName(id))["JETWAY_OPTION_API_KEY"] }).Should(gomega.Equal("first-key-123"))
	g.Expect(envOf("JETWAY_OPTION_API_KEY")()).To(gomega.HaveEach(""), "a secret option is an app secret, not machine environment")
	firstRevision := envOf("JETWAY_OPTIONS_REVISION")()[0]
	g.Expect(firstRevision).NotTo(gomega.BeEmpty())

	// flyctl sends only what the user changed: the key stays.
	resp, err = flyAPI.Update(ctx, id, map[string]any{"options": map[string]any{"size": "large"}})
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(resp.StatusCode).To(gomega.Equal(http.StatusOK), "body: %s", resp.Body)
	g.Eventually(envOf("JETWAY_OPTION_SIZE"), "60s").Should(gomega.HaveEach("large"))
	g.Expect(sim.Secrets(appName(id))["JETWAY_OPTION_API_KEY"]).To(gomega.Equal("first-key-123"))

	resp, err = flyAPI.Update(ctx, id, map[string]any{"options": map[string]any{"api-key": "short"}})
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(resp.StatusCode).To(gomega.Equal(http.StatusUnprocessableEntity), "body: %s", resp.Body)
	g.Expect(string(resp.Body)).To(gomega.ContainSubstring("options.api-key"))
	g.Expect(string(resp.Body)).NotTo(gomega.ContainSubstring("short"), "the refusal does not echo the secret")

	// A new key: set on Fly, and the machines restart onto it.
	resp, err = flyAPI.Update(ctx, id, map[string]any{"options": map[string]any{"api-key": "second-key-456"}})
	g.Expect(err).NotTo(gomega.HaveOccurred())
	g.Expect(resp.StatusCode).To(gomega.Equal(http.StatusOK), "body: %s", resp.Body)
	g.Eventually(func() string { return sim.Secrets(appName(id))["JETWAY_OPTION_API_KEY"] }, "60s").Should(gomega.Equal("second-key-456"))
	g.Eventually(envOf("JETWAY_OPTIONS_REVISION"), "60s").Should(gomega.HaveEach(gomega.And(
		gomega.Not(gomega.BeEmpty()), gomega.Not(gomega.Equal(firstRevision)))))
	g.Expect(envOf("JETWAY_OPTION_SIZE")()).To(gomega.HaveEach("large"))
}
