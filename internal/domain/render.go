package domain

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"text/template"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
)

// ownerScheme is what SetControllerReference needs to find the owner's kind.
type ownerScheme = *runtime.Scheme

// TemplateData is what a plan's config templates see.
type TemplateData struct {
	Username      string
	Password      string
	Host          string
	Port          int
	Name          string
	ID            string
	AppName       string
	FlycastIP     string
	PrimaryRegion string
}

// DataFor assembles the template data of an extension.
func DataFor(ext *jetwayv1.Extension, plan *jetwayv1.ExtensionPlan, creds Credentials, appName, zone string) TemplateData {
	return TemplateData{
		Username:      creds.Username,
		Password:      creds.Password,
		Host:          DNSName(ext.Spec.Name, zone),
		Port:          plan.Spec.Connection.Port,
		Name:          ext.Spec.Name,
		ID:            ext.Spec.ID,
		AppName:       appName,
		FlycastIP:     ext.Spec.IPAddress,
		PrimaryRegion: ext.Spec.PrimaryRegion,
	}
}

// DefaultUsername is the login name when the plan sets none.
func DefaultUsername(plan *jetwayv1.ExtensionPlan, ext *jetwayv1.Extension) string {
	if plan.Spec.Connection.Username != "" {
		return plan.Spec.Connection.Username
	}
	return DNSLabel(ext.Spec.Name)
}

// RenderConfig renders every config template of the plan. A template that
// does not parse or refers to an unknown field is an error naming the key,
// so an operator can fix the plan; rendering never half-succeeds.
func RenderConfig(plan *jetwayv1.ExtensionPlan, data TemplateData) (map[string]string, error) {
	keys := make([]string, 0, len(plan.Spec.Connection.Config))
	for k := range plan.Spec.Connection.Config {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		tmpl, err := template.New(k).Option("missingkey=error").Parse(plan.Spec.Connection.Config[k])
		if err != nil {
			return nil, fmt.Errorf("plan %s: config %s: %w", plan.Name, k, err)
		}
		var buf bytes.Buffer
		if err := tmpl.Execute(&buf, data); err != nil {
			return nil, fmt.Errorf("plan %s: config %s: %w", plan.Name, k, err)
		}
		out[k] = buf.String()
	}
	return out, nil
}

// ConfigOf renders the config Fly sets on the customer's app, from the
// extension's plan (read with cached) and its credentials Secret (read with
// live, as Secrets are not cached): what the provisioning answer carries,
// and what a webhook announcing rotated credentials carries again.
func (s Settings) ConfigOf(ctx context.Context, cached, live client.Reader, ext *jetwayv1.Extension) (map[string]string, error) {
	plan, err := ResolvePlan(ctx, cached, ext.Spec.Plan)
	if err != nil {
		return nil, err
	}
	creds, err := ReadCredentials(ctx, live, client.ObjectKey{Namespace: ext.Namespace, Name: CredentialsSecretName(ext.Name)})
	if err != nil {
		return nil, err
	}
	return RenderConfig(plan, DataFor(ext, plan, creds, s.AppName(ext.Spec.ID), s.DNSZone))
}
