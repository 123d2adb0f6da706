package gateway

import (
	"context"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
)

// Quotas are the provider-wide bounds on one organization; its
// Organization's spec.quota overrides them. Zero is no bound.
type Quotas struct {
	MaxExtensions int32
	MaxMachines   int32
}

// machinesOf is how many machines an extension with readRegions runs: a
// primary and a replica per read region.
func machinesOf(readRegions []string) int32 { return 1 + int32(len(readRegions)) }

// usage is what an organization holds, in all and on one plan.
type usage struct {
	extensions, machines         int32
	planExtensions, planMachines int32
}

// checkQuota refuses, with 422 quota_exceeded, a request that would take
// organization orgID past its quota or past plan's: the extension self
// (nil for a new one) would then run machines on plan. The counts come
// from the cache, so requests racing each other may pass one or two past a
// bound; the quota is there to stop a runaway customer, not to bill.
func (s *Server) checkQuota(ctx context.Context, orgID string, plan *jetwayv1.ExtensionPlan, self *jetwayv1.Extension, machines int32) error {
	org, err := s.quotaOf(ctx, orgID)
	if err != nil {
		return err
	}
	var planQuota jetwayv1.Quota
	if plan.Spec.Quota != nil {
		planQuota = *plan.Spec.Quota
	}
	if org.MaxExtensions == 0 && org.MaxMachines == 0 && bound(planQuota.MaxExtensions) == 0 && bound(planQuota.MaxMachines) == 0 {
		return nil
	}
	u, err := s.usageOf(ctx, orgID, plan.Name, self)
	if err != nil {
		return err
	}
	extensions := int32(0)
	if self == nil {
		extensions = 1
	}
	for _, c := range []struct {
		what          string
		have, add, mx int32
	}{
		{"extensions", u.extensions, extensions, org.MaxExtensions},
		{"machines", u.machines, machines, org.MaxMachines},
		{fmt.Sprintf("extensions on plan %q", plan.Name), u.planExtensions, extensions, bound(planQuota.MaxExtensions)},
		{fmt.Sprintf("machines on plan %q", plan.Name), u.planMachines, machines, bound(planQuota.MaxMachines)},
	} {
		if c.mx > 0 && c.have+c.add > c.mx {
			return &badRequest{status: http.StatusUnprocessableEntity, code: "quota_exceeded", message: fmt.Sprintf(
				"The organization has %d %s and this request needs %d more, past its limit of %d. Remove some, or ask the provider to raise the limit.",
				c.have, c.what, c.add, c.mx)}
		}
	}
	return nil
}

func bound(v *int32) int32 {
	if v == nil {
		return 0
	}
	return *v
}

// quotaOf is orgID's organization-wide quota: its Organization's, else
// the provider-wide one, bound by bound.
func (s *Server) quotaOf(ctx context.Context, orgID string) (Quotas, error) {
	q := s.cfg.Quotas
	org := &jetwayv1.Organization{}
	err := s.client.Get(ctx, client.ObjectKey{Name: domain.OrganizationName(orgID)}, org)
	if apierrors.IsNotFound(err) {
		return q, nil
	}
	if err != nil {
		return q, fmt.Errorf("read organization quota: %w", err)
	}
	if oq := org.Spec.Quota; oq != nil {
		if oq.MaxExtensions != nil {
			q.MaxExtensions = *oq.MaxExtensions
		}
		if oq.MaxMachines != nil {
			q.MaxMachines = *oq.MaxMachines
		}
	}
	return q, nil
}

// usageOf counts orgID's extensions and their machines, leaving out those
// being deleted and self (whose new size the caller adds).
func (s *Server) usageOf(ctx context.Context, orgID, plan string, self *jetwayv1.Extension) (usage, error) {
	var list jetwayv1.ExtensionList
	if err := s.client.List(ctx, &list, client.MatchingLabels{jetwayv1.LabelOrganization: domain.OrganizationName(orgID)}); err != nil {
		return usage{}, fmt.Errorf("count the organization's extensions: %w", err)
	}
	var u usage
	for i := range list.Items {
		e := &list.Items[i]
		if !e.DeletionTimestamp.IsZero() || e.Spec.Organization.ID != orgID || (self != nil && e.Namespace == self.Namespace && e.Name == self.Name) {
			continue
		}
		m := machinesOf(e.Spec.ReadRegions)
		u.extensions++
		u.machines += m
		if e.Spec.Plan == plan {
			u.planExtensions++
			u.planMachines += m
		}
	}
	return u, nil
}
