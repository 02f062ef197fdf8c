package bss

import (
	"context"
	"strings"

	"github.com/trellis-cloud/trellis/internal/errs"
)

// Addon runs addons/<action> (create, update, cancel). The body is the
// parent subscription with its Addons; the add-ons acted on are those
// whose ActionType is Provision (create, update) or Cancel (cancel). Their
// quantities are extra TB on top of the subscription's: the storage
// account's allocation, and the partner's, follow.
func (s *Service) Addon(ctx context.Context, c Call, action string, in SubscriptionInput, checkOnly bool) (Outcome, error) {
	action = strings.ToLower(strings.TrimSpace(action))
	o := op{"addons/" + action, "bss_addon", ""}
	for _, a := range in.Addons {
		if a.Action == AddonProvision || a.Action == AddonCancel {
			o.objectID = a.ID
			break
		}
	}
	if action != "create" && action != "update" && action != "cancel" {
		o.action = "addons/unknown"
		return s.run(ctx, c, o, checkOnly, func(Store) (Outcome, error) {
			return Outcome{}, refuse(errs.KindInvalid, "Unknown add-on action %q", action)
		})
	}
	return s.run(ctx, c, o, checkOnly, checked(in.Validate(), func(tx Store) (Outcome, error) {
		sub, err := findSubscription(ctx, tx, c.Inst.AppID, in)
		if err != nil {
			return Outcome{}, err
		}
		want := AddonProvision
		if action == "cancel" {
			want = AddonCancel
		}
		var targets []AddonInput
		for _, a := range in.Addons {
			if a.Action == want {
				targets = append(targets, a)
			}
		}
		if len(targets) == 0 {
			return Outcome{}, refuseOn(errs.KindInvalid, sub.ExternalID, "No add-on has ActionType %s", want)
		}
		existing, err := tx.ListBSSAddons(ctx, sub.AppID, sub.ExternalID)
		if err != nil {
			return Outcome{}, err
		}
		var first string
		changed := false
		for _, t := range targets {
			var id string
			var ch bool
			switch action {
			case "create":
				id, ch, err = s.createAddon(ctx, tx, sub, existing, t)
			case "update":
				id, ch, err = s.updateAddon(ctx, tx, sub, existing, t)
			default:
				id, ch, err = s.cancelAddon(ctx, tx, sub, existing, t)
			}
			if err != nil {
				return Outcome{}, err
			}
			if first == "" {
				first = id
			}
			changed = changed || ch
			if existing, err = tx.ListBSSAddons(ctx, sub.AppID, sub.ExternalID); err != nil {
				return Outcome{}, err
			}
		}
		if changed && sub.State != StateCancelled {
			if err := s.converge(ctx, tx, c, sub); err != nil {
				return Outcome{}, withObject(err, first)
			}
		}
		msg := map[string]string{"create": "Addon created", "update": "Addon updated", "cancel": "Addon cancelled"}[action]
		return Outcome{Message: msg, ID: first}, nil
	}))
}

// findAddon is the add-on a request names: by our ID, else the live one of
// its product.
func findAddon(existing []SubscriptionAddon, t AddonInput) (SubscriptionAddon, bool) {
	id := strings.TrimSpace(t.ID)
	for _, a := range existing {
		if id != "" && a.ExternalID == id {
			return a, true
		}
	}
	if id != "" {
		return SubscriptionAddon{}, false
	}
	for _, a := range existing {
		if a.State != StateCancelled && strings.EqualFold(a.Product, strings.TrimSpace(t.ProductID)) {
			return a, true
		}
	}
	return SubscriptionAddon{}, false
}

// createAddon adds an add-on, or finds the live one of the same product (a
// retried create answers with the stored id).
func (s *Service) createAddon(ctx context.Context, tx Store, sub Subscription, existing []SubscriptionAddon, t AddonInput) (string, bool, error) {
	if sub.State == StateCancelled {
		return "", false, refuseOn(errs.KindPrecondition, sub.ExternalID, "Subscription %s is cancelled", sub.ExternalID)
	}
	product, err := resolveAddonProduct(t)
	if err != nil {
		return "", false, err
	}
	if err := checkQuantity("Add-on", t.Quantity); err != nil {
		return "", false, err
	}
	for _, a := range existing {
		if a.State != StateCancelled && a.Product == product {
			return a.ExternalID, false, nil
		}
	}
	now := s.now()
	a := SubscriptionAddon{AppID: sub.AppID, ExternalID: "ad-" + shortID(), SubscriptionID: sub.ExternalID,
		Product: product, Quantity: t.Quantity, State: StateActive, CreatedAt: now, UpdatedAt: now}
	if err := tx.InsertBSSAddon(ctx, a); err != nil {
		return "", false, err
	}
	return a.ExternalID, true, nil
}

// updateAddon sets an add-on's absolute quantity.
func (s *Service) updateAddon(ctx context.Context, tx Store, sub Subscription, existing []SubscriptionAddon, t AddonInput) (string, bool, error) {
	if sub.State == StateCancelled {
		return "", false, refuseOn(errs.KindPrecondition, sub.ExternalID, "Subscription %s is cancelled", sub.ExternalID)
	}
	a, ok := findAddon(existing, t)
	if !ok {
		name := t.ID
		if name == "" {
			name = t.ProductID
		}
		return "", false, refuse(errs.KindNotFound, "Add-on %q not found", name)
	}
	if a.State == StateCancelled {
		return "", false, refuseOn(errs.KindPrecondition, a.ExternalID, "Add-on %s is cancelled", a.ExternalID)
	}
	if err := checkQuantity("Add-on", t.Quantity); err != nil {
		return "", false, withObject(err, a.ExternalID)
	}
	if a.Quantity == t.Quantity {
		return a.ExternalID, false, nil
	}
	a.Quantity, a.UpdatedAt = t.Quantity, s.now()
	return a.ExternalID, true, tx.UpdateBSSAddon(ctx, a)
}

// cancelAddon ends an add-on; an unknown or cancelled one is a success.
func (s *Service) cancelAddon(ctx context.Context, tx Store, sub Subscription, existing []SubscriptionAddon, t AddonInput) (string, bool, error) {
	a, ok := findAddon(existing, t)
	if !ok {
		return t.ID, false, nil
	}
	if a.State == StateCancelled {
		return a.ExternalID, false, nil
	}
	a.State, a.UpdatedAt = StateCancelled, s.now()
	if err := tx.UpdateBSSAddon(ctx, a); err != nil {
		return "", false, err
	}
	return a.ExternalID, true, nil
}
