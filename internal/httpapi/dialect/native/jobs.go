package native

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/trellis-cloud/trellis/internal/actor"
)

type purgeResult struct {
	Deleted int `json:"deleted" doc:"How many storage accounts were removed."`
}

func (s *server) registerJobs(api huma.API) {
	register(api, huma.Operation{OperationID: "purgeStorageAccounts", Method: http.MethodPost,
		Path: "/jobs/purge-storage-accounts", Summary: "Remove the storage accounts whose deletion is due, now",
		Description: "Runs the purge job at once instead of waiting for its schedule (operators, the sandbox). " +
			"Provider admins only."}, s.purgeStorageAccounts)
}

func (s *server) purgeStorageAccounts(ctx context.Context, _ *struct{}) (*output[purgeResult], error) {
	return call(ctx, s, func(a actor.Actor) (int, error) {
		// PurgeDue is a system job with no actor of its own, so the
		// operator check is made here.
		if err := a.RequireKind(actor.Provider); err != nil {
			return 0, err
		}
		if err := a.Require(actor.Admin); err != nil {
			return 0, err
		}
		return s.d.Objstore.PurgeDue(ctx, s.d.Buckets)
	}, func(n int) purgeResult { return purgeResult{Deleted: n} })
}
