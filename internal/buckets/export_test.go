package buckets

import "context"

// Batched runs fn through the service's group committer (tests).
func (s *Service) Batched(ctx context.Context, fn func(Store) error) error {
	return s.commit.do(ctx, s.store, fn)
}
