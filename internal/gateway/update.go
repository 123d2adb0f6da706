package gateway

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/util/retry"

	jetwayv1 "github.com/jetway-dev/jetway/api/v1alpha1"
	"github.com/jetway-dev/jetway/internal/domain"
)

// handleUpdate answers PATCH /extensions/{id}: read regions, plan and
// options may change; an unchanged request is a 200 no-op; immutable fields
// may be repeated but not changed.
func (s *Server) handleUpdate(w http.ResponseWriter, r *http.Request) {
	body, ok := s.readSigned(w, r)
	if !ok {
		return
	}
	req, err := decodeRequest(body)
	if err == nil {
		err = validateMutable(req)
	}
	if err != nil {
		s.answerError(w, r, err)
		return
	}
	id := r.PathValue("id")
	if req.ID != nil && *req.ID != id {
		writeError(w, http.StatusConflict, "immutable_field", "Field \"id\" does not match the extension being updated.")
		return
	}
	ctx := r.Context()
	ext, err := s.findByID(ctx, id)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if ext == nil {
		s.answerMissing(w, r, id)
		return
	}
	if req.Plan != nil && *req.Plan != ext.Spec.Plan {
		if _, err := domain.ResolvePlan(ctx, s.client, *req.Plan); err != nil || *req.Plan == "" {
			s.answerError(w, r, planError(domain.ErrPlanNotFound))
			return
		}
	}
	if err := s.checkGrowth(ctx, ext, req); err != nil {
		s.answerError(w, r, err)
		return
	}
	updated, err := s.applyUpdate(ctx, ext, req)
	if err != nil {
		s.answerError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.resourceOf(updated))
}

// checkGrowth applies the quotas to an update that adds machines or
// moves the extension to another plan; one that shrinks or keeps it passes.
func (s *Server) checkGrowth(ctx context.Context, ext *jetwayv1.Extension, req *provisionRequest) error {
	planName, regions := ext.Spec.Plan, ext.Spec.ReadRegions
	if req.Plan != nil {
		planName = *req.Plan
	}
	if req.ReadRegions != nil {
		regions = *req.ReadRegions
	}
	if planName == ext.Spec.Plan && machinesOf(regions) <= machinesOf(ext.Spec.ReadRegions) {
		return nil
	}
	plan, err := domain.ResolvePlan(ctx, s.client, planName)
	if err != nil {
		return planError(err)
	}
	return s.checkQuota(ctx, ext.Spec.Organization.ID, plan, ext, machinesOf(regions))
}

// applyUpdate writes the change with optimistic concurrency, re-reading on
// conflict so a concurrent write is never overwritten. It starts from a
// fresh read, not the cache: deciding "nothing changed" against a cached
// copy that has not seen an earlier update yet would answer 200 and drop
// this one (found by the chaos suite).
func (s *Server) applyUpdate(ctx context.Context, ext *jetwayv1.Extension, req *provisionRequest) (*jetwayv1.Extension, error) {
	var current *jetwayv1.Extension
	opts := &optionsUpdate{patch: req.Options}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if current == nil {
			fresh := &jetwayv1.Extension{}
			if err := s.live.Get(ctx, objectKey(ext), fresh); err != nil {
				return err
			}
			current = fresh
		}
		if !current.DeletionTimestamp.IsZero() {
			return &badRequest{status: http.StatusConflict, code: "deleting", message: "The extension is being deleted and can no longer be updated."}
		}
		if field := immutableMismatch(current, req); field != "" {
			return &badRequest{status: http.StatusConflict, code: "immutable_field",
				message: fmt.Sprintf("Field %q cannot be changed after provisioning.", field)}
		}
		next := current.DeepCopy()
		if req.ReadRegions != nil {
			next.Spec.ReadRegions = *req.ReadRegions
		}
		if req.Plan != nil {
			next.Spec.Plan = *req.Plan
		}
		if req.Options != nil {
			if err := opts.apply(ctx, s, current, next); err != nil {
				return err
			}
		}
		if sameMutable(current, next) {
			return nil
		}
		if err := s.client.Update(ctx, next, fieldOwner); err != nil {
			current = nil
			return err
		}
		current = next
		s.writes.wrote(next.Spec.ID)
		s.log.Info("Updated extension", "id", next.Spec.ID, "readRegions", next.Spec.ReadRegions, "plan", next.Spec.Plan)
		return nil
	})
	if apierrors.IsInvalid(err) {
		return nil, invalid("The update was rejected: %s", apiMessage(err))
	}
	if apierrors.IsNotFound(err) {
		return nil, &badRequest{status: http.StatusNotFound, code: "not_found", message: "The extension no longer exists."}
	}
	return current, err
}

func sameMutable(a, b *jetwayv1.Extension) bool {
	return slices.Equal(a.Spec.ReadRegions, b.Spec.ReadRegions) &&
		a.Spec.Plan == b.Spec.Plan &&
		jsonEqual(a.Spec.Options, b.Spec.Options) &&
		a.Annotations[jetwayv1.AnnotationSecretOptionsRevision] == b.Annotations[jetwayv1.AnnotationSecretOptionsRevision]
}

// jsonEqual compares two optional JSON values, an absent one as null.
// (JSON.MarshalJSON has a value receiver: calling it on nil panics.)
func jsonEqual(a, b *apiextensionsv1.JSON) bool {
	return bytes.Equal(jsonOrNull(a), jsonOrNull(b))
}

func jsonOrNull(j *apiextensionsv1.JSON) []byte {
	if j == nil || len(j.Raw) == 0 {
		return []byte("null")
	}
	return j.Raw
}
