package sqlstore

import (
	"context"

	"github.com/trellis-cloud/trellis/internal/buckets"
	"github.com/trellis-cloud/trellis/internal/metering"
)

var _ buckets.ExcessStore = (*Store)(nil)

// ContractDailyUsage implements buckets.ExcessStore: the daily usage of the
// storage accounts of every partner under the contract, days from and to
// inclusive, by day.
func (s *Store) ContractDailyUsage(ctx context.Context, contractID, from, to string) ([]metering.DailyUsage, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT u.storage_account_id, u.day, u.usage_bytes, u.allocated_capacity, u.recorded_at
		FROM daily_usage u
		JOIN storage_accounts a ON a.id = u.storage_account_id
		JOIN orgs p ON p.id = a.partner_id
		WHERE p.contract_id = $1 AND u.day >= $2 AND u.day <= $3
		ORDER BY u.day, u.storage_account_id`, contractID, from, to)
	if err != nil {
		return nil, s.mapErr(err, "daily usage")
	}
	return collect(rows, scanDailyUsage)
}
