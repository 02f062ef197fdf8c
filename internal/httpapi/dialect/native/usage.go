package native

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/metering"
)

// dailyUsage is one storage account's usage on one UTC day.
type dailyUsage struct {
	StorageAccountID  string    `json:"storageAccountId" format:"uuid"`
	Day               string    `json:"day" format:"date" example:"2024-05-31"`
	Usage             int64     `json:"usage" doc:"Bytes stored."`
	AllocatedCapacity int64     `json:"allocatedCapacity" doc:"The account's allocation when the day was recorded."`
	RecordedAt        time.Time `json:"recordedAt"`
}

func usageFrom(u metering.DailyUsage) dailyUsage {
	return dailyUsage{StorageAccountID: u.StorageAccountID, Day: u.Day, Usage: u.UsageBytes,
		AllocatedCapacity: u.AllocatedCapacity, RecordedAt: u.RecordedAt.UTC()}
}

type recordUsageInput struct {
	ID   string `path:"id" format:"uuid" doc:"The storage account."`
	Day  string `path:"day" format:"date" doc:"The UTC day, yyyy-mm-dd." example:"2024-05-31"`
	Body struct {
		Usage int64 `json:"usage" minimum:"0" exclusiveMaximum:"9223372036854775808" doc:"Bytes stored that day."`
	}
}

func (s *server) registerUsage(api huma.API) {
	register(api, huma.Operation{OperationID: "recordDailyUsage", Method: http.MethodPut,
		Path: "/storage-accounts/{id}/usage/{day}", Tags: []string{"usage"},
		Summary: "Record (or correct) a storage account's usage on one day"}, s.recordUsage)
}

func (s *server) recordUsage(ctx context.Context, in *recordUsageInput) (*output[dailyUsage], error) {
	return call(ctx, s, func(a actor.Actor) (metering.DailyUsage, error) {
		return s.d.Metering.RecordDaily(ctx, a, metering.RecordDailyInput{StorageAccountID: in.ID, Day: in.Day,
			UsageBytes: in.Body.Usage})
	}, usageFrom)
}
