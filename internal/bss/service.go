// Package bss is the vendor side of an Infiterra (interworks.cloud) BSS
// service manager: BSS installations and their authentication, and the
// fifteen service-manager operations mapped onto tenancy partners and
// objstore storage accounts. An operation returns what it did (Outcome) or
// an error with a kind (a Refusal names the object it is about). The
// package knows nothing of the wire: the HTTP dialect
// (internal/httpapi/dialect/infiterra) decodes the SDK's JSON model, maps it
// onto the inputs of input.go, calls the methods here, builds the catalog
// it serves from Catalog, Settings and AccountOptions, and shapes the answer
// in its {"Code","Message","Result"} envelope.
package bss

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
	"github.com/trellis-cloud/trellis/internal/wiring"
)

// Installation is one BSS installation's registration of Trellis: the
// Application Id and API key the BSS sends on every call, bound to a
// distributor and the contract its subscriptions draw capacity from.
type Installation struct {
	AppID           string // GUID, lower case, no braces
	DistributorID   string
	DistributorPath string
	ContractID      string
	Name            string
	KeyHash         string // SHA-256 hex of the API key
	CreatedAt       time.Time
	RevokedAt       *time.Time
}

// CreatedInstallation is a new installation with its API key, shown once.
type CreatedInstallation struct {
	Installation
	APIKey string
}

// InstallationInput registers an installation.
type InstallationInput struct {
	DistributorID string
	ContractID    string
	Name          string
	AppID         string // "" = a new GUID
	APIKey        string // "" = generated
}

// Call is one authenticated service-manager call.
type Call struct {
	Inst     Installation
	TrackID  string            // X-CloudPlatform-TrackId (or the request id): the audit rows' RequestID
	Settings map[string]string // X-CloudPlatform-Setting-<FieldID>, keyed by field ID
}

// KeyAuthenticator resolves a Trellis API key (access.Service implements
// it); fields/validate uses it to check the ICApiKey setting.
type KeyAuthenticator interface {
	Authenticate(ctx context.Context, key, requestID string) (actor.Actor, error)
}

// Service runs the BSS use cases.
type Service struct {
	store   Store
	tenancy *tenancy.Service
	obj     *objstore.Service
	clock   clock.Clock
	keys    KeyAuthenticator
}

// NewService returns a BSS service, or an error naming a missing
// dependency; keys checks an ICApiKey setting.
func NewService(st Store, t *tenancy.Service, o *objstore.Service, c clock.Clock, keys KeyAuthenticator) (*Service, error) {
	if err := wiring.Require("bss", wiring.D("Store", st), wiring.D("Tenancy", t), wiring.D("Objstore", o),
		wiring.D("Clock", c), wiring.D("Keys", keys)); err != nil {
		return nil, err
	}
	return &Service{store: st, tenancy: t, obj: o, clock: c, keys: keys}, nil
}
