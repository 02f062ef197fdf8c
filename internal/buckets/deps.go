package buckets

import (
	"github.com/trellis-cloud/trellis/internal/clock"
)

// Service runs the bucket use cases and the accounting.
type Service struct {
	clock    clock.Clock
	provider Provider
}

// SetProvider sets the data plane (set once while the app is assembled; the
// S3 server needs the service first).
func (s *Service) SetProvider(p Provider) { s.provider = p }
