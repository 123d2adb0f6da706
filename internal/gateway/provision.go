package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
)

// +kubebuilder:rbac:groups=jetway.dev,resources=extensions,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=jetway.dev,resources=extensionplans,verbs=get;list;watch
// Credentials and options Secrets: through domain.NamespaceAccess, in org
// namespaces only (config/rbac/managed_namespace_role.yaml).
// +kubebuilder:rbac:groups=core,resources=configmaps,verbs=list;watch;create;delete
// (watch: the manager's cache holds the tombstone ConfigMaps, by label; list
// already reaches every ConfigMap, so watch shows nothing more.)
// Name claims are Leases in the manager's own namespace, where the leader
// election Role (config/rbac/leader_election_role.yaml) already grants them.
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// handleProvision answers POST /extensions. The answer comes once the
// Extension is persisted; the controllers do the Fly work afterwards. A
// repeat of the same request answers 200 with the same body.
func (s *Server) handleProvision(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readSigned(w, r)
	if !ok {
		return
	}
	req, err := decodeRequest(body)
	if err == nil {
		err = s.validateCreate(req)
	}
	if err != nil {
		s.answerError(w, r, err)
		return
	}
	ctx := r.Context()
	// The cache alone: a repeat so soon that the cache has not seen the
	// first is caught by the create below (same id, same object key), and
	// a live list here would cost every new POST a scan of all Extensions.
	existing, err := domain.CachedExtensionByID(ctx, s.client, *req.ID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if existing != nil {
		s.answerRepeat(w, r, existing, req)
		return
	}
	plan, err := domain.ResolvePlan(ctx, s.client, deref(req.Plan))
	if err != nil {
		s.answerError(w, r, planError(err))
		return
	}
	var readRegions []string
	if req.ReadRegions != nil {
		readRegions = *req.ReadRegions
	}
	if err := s.checkQuota(ctx, *req.OrganizationID, plan, nil, machinesOf(readRegions)); err != nil {
		s.answerError(w, r, err)
		return
	}
	if err := checkOptions(req, plan); err != nil {
		s.answerError(w, r, err)
		return
	}
	name, ok, err := s.claimName(ctx, req, plan)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if !ok {
		nameTaken(w, *req.Name)
		return
	}
	if name != *req.Name {
		req.RequestedName = *req.Name
		req.Name = &name
	}
	ext, created, err := s.create(ctx, req, plan)
	if err != nil {
		s.answerError(w, r, err)
		return
	}
	if !created {
		s.answerRepeat(w, r, ext, req)
		return
	}
	s.answerProvisioned(w, r, http.StatusCreated, ext, plan)
}

// renameAttempts bounds the unique names tried for one request; each is
// the requested name plus a suffix from the id, so only a collision of
// those suffixes with names already held uses a second.
const renameAttempts = 5

// claimName holds req's name for its id. When another extension holds it
// and the plan renames on conflict, it holds the first free unique name
// made from it instead (the same ones, in the same order, for every
// repeat of the request). ok is false when the name is taken and the plan
// rejects, or every attempt is taken too.
func (s *Server) claimName(ctx context.Context, req *provisionRequest, plan *jetwayv1.ExtensionPlan) (name string, ok bool, err error) {
	candidates := []string{*req.Name}
	if plan.Spec.RenamesOnConflict() {
		for attempt := range renameAttempts {
			candidates = append(candidates, domain.UniqueName(*req.Name, *req.ID, attempt))
		}
	}
	for _, name := range candidates {
		holder, err := s.findByName(ctx, name)
		if err != nil {
			return "", false, err
		}
		if holder != nil && holder.Spec.ID != *req.ID {
			continue
		}
		ok, err := domain.ClaimName(ctx, s.client, s.live, fieldOwner, s.cfg.Domain.ClaimsNamespace, name, *req.ID)
		if err != nil || ok {
			return name, ok, err
		}
	}
	return "", false, nil
}

// create persists the Extension. created is false when a concurrent request
// with the same id won the race; ext is then the winner's.
func (s *Server) create(ctx context.Context, req *provisionRequest, plan *jetwayv1.ExtensionPlan) (*jetwayv1.Extension, bool, error) {
	// Render once with throwaway credentials first: a plan whose templates
	// are broken must fail the request before anything is written.
	probe := &jetwayv1.Extension{Spec: specFrom(req, plan.Name)}
	if _, err := domain.RenderConfig(plan, domain.DataFor(probe, plan, domain.Credentials{Username: "u", Password: "p"}, "app", s.cfg.Domain.DNSZone)); err != nil {
		return nil, false, &badRequest{status: http.StatusServiceUnavailable, code: "plan_invalid",
			message: "The provider's plan is misconfigured; the provider has been told."}
	}
	ns, err := s.ensureAccount(ctx, req)
	if err != nil {
		return nil, false, err
	}
	ext := &jetwayv1.Extension{
		ObjectMeta: metav1.ObjectMeta{
			Name:      domain.ExtensionName(*req.ID),
			Namespace: ns,
			Labels: map[string]string{
				jetwayv1.LabelFlyIDHash:    domain.Hash(*req.ID),
				jetwayv1.LabelOrganization: domain.OrganizationName(*req.OrganizationID),
				jetwayv1.LabelManagedBy:    jetwayv1.ManagedByJetway,
			},
			// Fly knows about what it created: no resource.created for it.
			Annotations: map[string]string{jetwayv1.AnnotationOrigin: jetwayv1.OriginFly},
			Finalizers:  slices.Clone(s.cfg.Finalizers),
		},
		Spec: specFrom(req, plan.Name),
	}
	if req.RequestedName != "" {
		ext.Annotations[jetwayv1.AnnotationRequestedName] = req.RequestedName
	}
	if len(req.SecretOptions) > 0 {
		ext.Annotations[jetwayv1.AnnotationSecretOptionsRevision] = domain.NewRevision()
	}
	if err := domain.ForgetTombstone(ctx, s.client, ns, ext.Name); err != nil {
		return nil, false, fmt.Errorf("forget tombstone: %w", err)
	}
	winner, err := s.createOrFind(ctx, ext, *req.OrganizationID)
	if winner != nil {
		return winner, false, nil
	}
	if err != nil {
		if apierrors.IsInvalid(err) {
			return nil, false, invalid("The extension was rejected: %s", apiMessage(err))
		}
		return nil, false, fmt.Errorf("create extension: %w", err)
	}
	if len(req.SecretOptions) > 0 {
		if _, err := domain.WriteSecretOptions(ctx, s.client, s.live, s.scheme, ext, req.SecretOptions); err != nil {
			return nil, false, err
		}
	}
	s.log.Info("Provisioned extension", "id", ext.Spec.ID, "extension", ns+"/"+ext.Name)
	return ext, true, nil
}

// createOrFind creates ext, or finds the Extension already at its key (a
// concurrent or very recent request with the same id, which the cache did
// not show yet) and returns that one as winner.
func (s *Server) createOrFind(ctx context.Context, ext *jetwayv1.Extension, orgID string) (winner *jetwayv1.Extension, err error) {
	for range 3 {
		err = s.client.Create(ctx, ext, fieldOwner)
		if apierrors.IsNotFound(err) {
			// The namespace is gone though the member is recorded (deleted
			// by hand, or an Organization applied without one): make it.
			if err = domain.EnsureNamespace(ctx, s.client, s.live, fieldOwner, s.cfg.Domain.Access, orgID); err == nil {
				err = s.client.Create(ctx, ext, fieldOwner)
			}
		}
		if !apierrors.IsAlreadyExists(err) {
			return nil, err
		}
		winner = &jetwayv1.Extension{}
		gerr := s.live.Get(ctx, objectKey(ext), winner)
		if gerr == nil {
			return winner, nil
		}
		if !apierrors.IsNotFound(gerr) {
			return nil, fmt.Errorf("read concurrently created extension: %w", gerr)
		}
		// Deleted between the create and the read: create it again.
	}
	return nil, fmt.Errorf("create extension: it keeps being deleted as it is created: %w", err)
}

// answerRepeat handles a POST for an id that exists: the same immutable
// fields answer 200 with the original body; different ones answer 409.
func (s *Server) answerRepeat(w http.ResponseWriter, r *http.Request, ext *jetwayv1.Extension, req *provisionRequest) {
	if !ext.DeletionTimestamp.IsZero() {
		writeError(w, http.StatusConflict, "deleting", "The extension is being deleted; provision it again once deletion finishes.")
		return
	}
	if field := immutableMismatch(ext, req); field != "" {
		writeError(w, http.StatusConflict, "conflict",
			fmt.Sprintf("An extension with id %q already exists with a different %s.", ext.Spec.ID, field))
		return
	}
	plan, err := domain.ResolvePlan(r.Context(), s.client, ext.Spec.Plan)
	if err != nil {
		s.answerError(w, r, planError(err))
		return
	}
	s.answerProvisioned(w, r, http.StatusOK, ext, plan)
}

// answerProvisioned writes the resource plus its config. Credentials are
// made once and read back on every repeat, so repeats are byte-identical.
func (s *Server) answerProvisioned(w http.ResponseWriter, r *http.Request, status int, ext *jetwayv1.Extension, plan *jetwayv1.ExtensionPlan) {
	ensure := domain.EnsureCredentials
	if status == http.StatusCreated {
		ensure = domain.CreateCredentials // this request made the Extension
	}
	creds, err := ensure(r.Context(), s.client, s.live, s.scheme, ext, domain.DefaultUsername(plan, ext))
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	res := s.resourceOf(ext)
	config, err := domain.RenderConfig(plan, domain.DataFor(ext, plan, creds, res.FlyAppName, s.cfg.Domain.DNSZone))
	if err != nil {
		s.answerError(w, r, &badRequest{status: http.StatusServiceUnavailable, code: "plan_invalid",
			message: "The provider's plan is misconfigured; the provider has been told."})
		s.log.Error(err, "Plan renders no config", "plan", plan.Name)
		return
	}
	writeJSON(w, status, provisionResponse{Resource: res, Config: config})
}

// immutableMismatch names the first immutable field a repeat changes.
func immutableMismatch(ext *jetwayv1.Extension, req *provisionRequest) string {
	switch {
	case req.Name != nil && *req.Name != ext.Spec.Name && *req.Name != ext.Annotations[jetwayv1.AnnotationRequestedName]:
		return "name"
	case req.OrganizationID != nil && *req.OrganizationID != ext.Spec.Organization.ID:
		return "organization_id"
	case req.PrimaryRegion != nil && *req.PrimaryRegion != ext.Spec.PrimaryRegion:
		return "primary_region"
	case req.IPAddress != nil && *req.IPAddress != ext.Spec.IPAddress:
		return "ip_address"
	}
	return ""
}

func planError(err error) error {
	if errors.Is(err, domain.ErrPlanNotFound) {
		return &badRequest{status: http.StatusUnprocessableEntity, code: "unknown_plan", message: "The requested plan does not exist."}
	}
	return err
}

// answerError writes a badRequest as itself and anything else as a 503.
func (s *Server) answerError(w http.ResponseWriter, r *http.Request, err error) {
	var br *badRequest
	if errors.As(err, &br) {
		writeError(w, br.status, br.code, br.message)
		return
	}
	s.internalError(w, r, err)
}

func apiMessage(err error) string {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return status.Status().Message
	}
	return "invalid"
}

// nameTaken answers 409 name_taken. Another extension's name is not
// quoted: it may belong to another organization.
func nameTaken(w http.ResponseWriter, name string) {
	writeError(w, http.StatusConflict, "name_taken", fmt.Sprintf(
		"The name %q is already used by another extension (names must differ in their DNS form, %s).",
		name, domain.DNSLabel(name)))
}
