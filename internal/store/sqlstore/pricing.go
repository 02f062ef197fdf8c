package sqlstore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/pricing"
	"github.com/trellis-cloud/trellis/internal/store/db"
)

// Pricing is the pricing.Store.
type Pricing struct{ *Store }

// Tx implements pricing.Store.
func (p Pricing) Tx(ctx context.Context, fn func(pricing.Store) error) error {
	return p.tx(ctx, func(s *Store) error { return fn(Pricing{s}) })
}

var _ pricing.Store = Pricing{}

// itemJSON is how a policy item is kept inside price_versions.items: the
// wire names, and the price as an exact decimal string.
type itemJSON struct {
	PolicyID                int64  `json:"policyId"`
	ResourceType            string `json:"resourceType"`
	ServiceNameUserFriendly string `json:"serviceNameUserFriendly"`
	NumCPUs                 int64  `json:"numCpus,omitempty"`
	MegsRAM                 int64  `json:"megsRam,omitempty"`
	ServiceNameInUptime     string `json:"serviceNameInUptime,omitempty"`
	Price                   string `json:"price"`
}

type multiplierJSON struct {
	ResourceType        string `json:"resourceType"`
	ServiceNameInUptime string `json:"serviceNameInUptime,omitempty"`
	PriceMultiplier     string `json:"priceMultiplier"`
}

func encodeItems(items []pricing.Item) (string, error) {
	out := make([]itemJSON, len(items))
	for i, it := range items {
		out[i] = itemJSON{PolicyID: it.PolicyID, ResourceType: string(it.ResourceType), ServiceNameUserFriendly: it.ServiceNameUserFriendly,
			NumCPUs: it.NumCPUs, MegsRAM: it.MegsRAM, ServiceNameInUptime: it.ServiceNameInUptime, Price: it.Price.String()}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", errs.Wrap(errs.KindInternal, err, "encode price items")
	}
	return string(b), nil
}

func decodeItems(s string) ([]pricing.Item, error) {
	var in []itemJSON
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, errs.Wrap(errs.KindInternal, err, "stored price items")
	}
	out := make([]pricing.Item, len(in))
	for i, it := range in {
		p, err := money.ParseDecimal("price", it.Price)
		if err != nil {
			return nil, errs.Wrap(errs.KindInternal, err, "stored price")
		}
		out[i] = pricing.Item{PolicyID: it.PolicyID, ResourceType: pricing.ResourceType(it.ResourceType),
			ServiceNameUserFriendly: it.ServiceNameUserFriendly, NumCPUs: it.NumCPUs, MegsRAM: it.MegsRAM,
			ServiceNameInUptime: it.ServiceNameInUptime, Price: p}
	}
	return out, nil
}

const priceVersionCols = `id, effective_from, items, created_at, created_by`

func scanPriceVersion(sc interface{ Scan(...any) error }) (pricing.Version, error) {
	var v pricing.Version
	var from, created db.Time
	var items string
	if err := sc.Scan(&v.ID, &from, &items, &created, &v.CreatedBy); err != nil {
		return v, err
	}
	v.EffectiveFrom, v.CreatedAt = from.Time, created.Time
	var err error
	v.Items, err = decodeItems(items)
	return v, err
}

// InsertPriceVersion implements pricing.Store.
func (s *Store) InsertPriceVersion(ctx context.Context, v pricing.Version) (bool, error) {
	items, err := encodeItems(v.Items)
	if err != nil {
		return false, err
	}
	res, err := s.w().ExecContext(ctx, `INSERT INTO price_versions (`+priceVersionCols+`) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT DO NOTHING`, v.ID, db.Micro(v.EffectiveFrom), items, db.Micro(v.CreatedAt), v.CreatedBy)
	return s.changed(res, err, "price version")
}

// ListPriceVersions implements pricing.Store.
func (s *Store) ListPriceVersions(ctx context.Context) ([]pricing.Version, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+priceVersionCols+` FROM price_versions ORDER BY effective_from`)
	if err != nil {
		return nil, s.mapErr(err, "price version")
	}
	return collect(rows, scanPriceVersion)
}

// PriceVersionAt implements pricing.Store.
func (s *Store) PriceVersionAt(ctx context.Context, at time.Time) (pricing.Version, error) {
	v, err := scanPriceVersion(s.r().QueryRowContext(ctx, `SELECT `+priceVersionCols+` FROM price_versions
		WHERE effective_from <= $1 ORDER BY effective_from DESC LIMIT 1`, db.Micro(at)))
	return v, s.mapErr(err, "price version")
}

func encodeMultipliers(ms []pricing.Multiplier) (string, error) {
	out := make([]multiplierJSON, len(ms))
	for i, m := range ms {
		out[i] = multiplierJSON{ResourceType: string(m.ResourceType), ServiceNameInUptime: m.ServiceNameInUptime,
			PriceMultiplier: m.PriceMultiplier.String()}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", errs.Wrap(errs.KindInternal, err, "encode multipliers")
	}
	return string(b), nil
}

// ReplaceServiceMultipliers implements pricing.Store.
func (s *Store) ReplaceServiceMultipliers(ctx context.Context, sm pricing.ServiceMultipliers) error {
	ms, err := encodeMultipliers(sm.Multipliers)
	if err != nil {
		return err
	}
	_, err = s.w().ExecContext(ctx, `INSERT INTO price_services (service, multipliers, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (service) DO UPDATE SET multipliers = excluded.multipliers, updated_at = excluded.updated_at`,
		sm.Service, ms, db.Micro(sm.UpdatedAt))
	return s.mapErr(err, "managed service prices")
}

// InsertServiceMultipliers implements pricing.Store.
func (s *Store) InsertServiceMultipliers(ctx context.Context, sm pricing.ServiceMultipliers) (bool, error) {
	ms, err := encodeMultipliers(sm.Multipliers)
	if err != nil {
		return false, err
	}
	res, err := s.w().ExecContext(ctx, `INSERT INTO price_services (service, multipliers, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (service) DO NOTHING`, sm.Service, ms, db.Micro(sm.UpdatedAt))
	return s.changed(res, err, "managed service prices")
}

// ListServiceMultipliers implements pricing.Store.
func (s *Store) ListServiceMultipliers(ctx context.Context) ([]pricing.ServiceMultipliers, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT service, multipliers, updated_at FROM price_services ORDER BY service`)
	if err != nil {
		return nil, s.mapErr(err, "managed service prices")
	}
	return collect(rows, func(sc interface{ Scan(...any) error }) (pricing.ServiceMultipliers, error) {
		var sm pricing.ServiceMultipliers
		var ms string
		var at db.Time
		if err := sc.Scan(&sm.Service, &ms, &at); err != nil {
			return sm, err
		}
		sm.UpdatedAt = at.Time
		var in []multiplierJSON
		if err := json.Unmarshal([]byte(ms), &in); err != nil {
			return sm, err
		}
		sm.Multipliers = make([]pricing.Multiplier, len(in))
		for i, m := range in {
			d, err := money.ParseDecimal("priceMultiplier", m.PriceMultiplier)
			if err != nil {
				return sm, err
			}
			sm.Multipliers[i] = pricing.Multiplier{ResourceType: pricing.ResourceType(m.ResourceType),
				ServiceNameInUptime: m.ServiceNameInUptime, PriceMultiplier: d}
		}
		return sm, nil
	})
}
