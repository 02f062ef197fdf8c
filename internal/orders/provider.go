package orders

import (
	"context"
	"encoding/json"
	"time"
)

// Provider builds and removes ordered services. Every step is keyed by the
// order id and idempotent: repeating a step that already happened succeeds
// and changes nothing. The built-in implementation is orders/sim.
type Provider interface {
	// Delay is how long the provider takes for a step: 0 means at once
	// (the request runs the step itself); otherwise the step job is
	// scheduled that far ahead and the order answers Creating.
	Delay() time.Duration
	// Create builds the order's service and returns the provider's
	// reference for it.
	Create(ctx context.Context, spec Spec) (string, error)
	// Delete removes it; an unknown order is a success.
	Delete(ctx context.Context, orderID int64) error
}

// Spec is what the provider builds (no secrets).
type Spec struct {
	OrderID  int64
	Kind     string
	Name     string
	Location string
	Spec     json.RawMessage
}
