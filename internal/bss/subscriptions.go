package bss

import (
	"context"
	"strings"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/objstore"
)

// Subscription runs subscriptions/<action> (create, update, activate,
// suspend, cancel). Each call is one transaction over the mapping, the
// partner's allocation and the storage account; calls for one subscription
// serialise on its row lock. checkOnly runs every check and rolls back.
func (s *Service) Subscription(ctx context.Context, c Call, action string, in SubscriptionInput, checkOnly bool) (Outcome, error) {
	action = strings.ToLower(strings.TrimSpace(action))
	objID := in.ID
	if objID == "" {
		objID = in.SubscriptionID
	}
	o := op{"subscriptions/" + action, "bss_subscription", objID}
	var fn func(tx Store) (Outcome, error)
	switch action {
	case "create":
		fn = func(tx Store) (Outcome, error) { return s.createSubscription(ctx, tx, c, in) }
	case "update":
		fn = func(tx Store) (Outcome, error) { return s.updateSubscription(ctx, tx, c, in) }
	case "activate", "suspend":
		fn = func(tx Store) (Outcome, error) { return s.suspendSubscription(ctx, tx, c, in, action == "suspend") }
	case "cancel":
		fn = func(tx Store) (Outcome, error) { return s.cancelSubscription(ctx, tx, c, in) }
	default:
		o.action = "subscriptions/unknown"
		fn = func(Store) (Outcome, error) {
			return Outcome{}, refuse(errs.KindInvalid, "Unknown subscription action %q", action)
		}
	}
	return s.run(ctx, c, o, checkOnly, checked(in.Validate(), fn))
}

// dedupeKey is what a retried create is recognised by (reference §7): the
// BSS subscription id, or without one the account, service type and name.
func dedupeKey(in SubscriptionInput, acc Account) string {
	if id := strings.TrimSpace(in.SubscriptionID); id != "" {
		return "sid:" + id
	}
	return "acct:" + acc.ExternalID + "|" + strings.ToLower(strings.TrimSpace(in.ServiceType)) + "|" + strings.TrimSpace(in.Name)
}

// contactEmail gives each storage account its own address (the column is
// unique): the account's e-mail plus-addressed with the subscription id.
func contactEmail(acc Account, ext string) string {
	if at := strings.LastIndexByte(acc.Email, '@'); at > 0 {
		e := acc.Email[:at] + "+" + ext + acc.Email[at:]
		if len(e) <= 254 {
			return e
		}
	}
	return ext + "@bss.invalid"
}

func storageName(in SubscriptionInput, acc Account) string {
	n := strings.TrimSpace(in.Name)
	if n == "" {
		n = acc.Name
	}
	if r := []rune(n); len(r) > 200 {
		n = string(r[:200])
	}
	return n
}

func created(sub Subscription) Outcome {
	return Outcome{Message: "Subscription created", ID: sub.ExternalID,
		Fields: map[string]string{FieldStorageID: sub.StorageAccountID}}
}

func (s *Service) createSubscription(ctx context.Context, tx Store, c Call, in SubscriptionInput) (Outcome, error) {
	// A retried create answers as the first did, whatever happened since
	// (the account may be gone, the subscription cancelled).
	if id := strings.TrimSpace(in.SubscriptionID); id != "" {
		prev, err := tx.GetBSSSubscriptionByKey(ctx, c.Inst.AppID, "sid:"+id)
		if err == nil {
			return created(prev), nil
		}
		if !errs.Is(err, errs.KindNotFound) {
			return Outcome{}, err
		}
	}
	if err := checkQuantity("Subscription", in.Quantity); err != nil {
		return Outcome{}, err
	}
	product, err := resolveProduct(in)
	if err != nil {
		return Outcome{}, err
	}
	acc, err := liveAccount(ctx, tx, c.Inst.AppID, in.Account)
	if err != nil {
		return Outcome{}, err
	}
	// Add-ons ordered with the subscription are provisioned with it
	// (reference Q5).
	var addons []AddonInput
	units := in.Quantity
	for _, a := range in.Addons {
		if a.Action != AddonProvision {
			continue
		}
		if _, err := resolveAddonProduct(a); err != nil {
			return Outcome{}, err
		}
		if err := checkQuantity("Add-on", a.Quantity); err != nil {
			return Outcome{}, err
		}
		addons = append(addons, a)
		units += a.Quantity
	}
	if units > maxQuantity {
		return Outcome{}, refuse(errs.KindInvalid, "Total quantity must be at most %d", maxQuantity)
	}
	now := s.now()
	sub := Subscription{AppID: c.Inst.AppID, ExternalID: "s-" + shortID(), DedupeKey: dedupeKey(in, acc),
		BSSSubscriptionID: strings.TrimSpace(in.SubscriptionID), AccountID: acc.ExternalID, PartnerID: acc.PartnerID,
		PartnerPath: acc.PartnerPath, Product: product, Name: strings.TrimSpace(in.Name), Quantity: in.Quantity,
		State: StateActive, CreatedAt: now, UpdatedAt: now}
	// Claim the key first: a concurrent delivery of the same create waits
	// here for this transaction, then finds the row and answers alike.
	inserted, err := tx.InsertBSSSubscription(ctx, sub)
	if err != nil {
		return Outcome{}, err
	}
	if !inserted {
		prev, err := tx.GetBSSSubscriptionByKey(ctx, sub.AppID, sub.DedupeKey)
		if err != nil {
			return Outcome{}, err
		}
		return created(prev), nil
	}
	capacity := units * UnitBytes
	if err := s.resizePartner(ctx, tx, c, sub.PartnerID, capacity); err != nil {
		return Outcome{}, err
	}
	sa, err := s.obj.CreateStorageAccountTx(ctx, tx.Objstore(), c.actor(), sub.PartnerID, objstore.CreateStorageAccountInput{
		Name: storageName(in, acc), AllocatedCapacity: capacity, ContactEmail: contactEmail(acc, sub.ExternalID),
		Password: randomPassword()})
	if err != nil {
		return Outcome{}, err
	}
	sub.StorageAccountID = sa.ID
	if err := tx.UpdateBSSSubscription(ctx, sub); err != nil {
		return Outcome{}, err
	}
	for _, a := range addons {
		if err := tx.InsertBSSAddon(ctx, SubscriptionAddon{AppID: sub.AppID, ExternalID: "ad-" + shortID(),
			SubscriptionID: sub.ExternalID, Product: AddonExtraTB, Quantity: a.Quantity, State: StateActive,
			CreatedAt: now, UpdatedAt: now}); err != nil {
			if errs.Is(err, errs.KindConflict) {
				return Outcome{}, refuse(errs.KindInvalid, "Add-on %q is ordered twice", a.ProductID)
			}
			return Outcome{}, err
		}
	}
	return created(sub), nil
}

// resizePartner moves delta bytes between the contract and a partner's
// allocation; a contract without room is the capacity refusal the BSS shows.
func (s *Service) resizePartner(ctx context.Context, tx Store, c Call, partnerID string, delta int64) error {
	if delta == 0 {
		return nil
	}
	_, err := s.tenancy.ResizePartnerTx(ctx, tx.Tenancy(), c.actor(), partnerID, delta)
	if !errs.Is(err, errs.KindCapacityExceeded) || delta < 0 {
		return err
	}
	p, perr := tx.Tenancy().GetOrg(ctx, "/", partnerID)
	if perr != nil {
		return err
	}
	ct, cerr := tx.Tenancy().GetContract(ctx, "/", p.ContractID)
	if cerr != nil {
		return err
	}
	return refuse(errs.KindCapacityExceeded, "contract capacity exhausted: %d bytes free", ct.Free())
}

// findSubscription resolves a request's subscription by our ID, else by the
// BSS SubscriptionID, locks its row and reads it again under the lock.
func findSubscription(ctx context.Context, tx Queries, appID string, in SubscriptionInput) (Subscription, error) {
	id := strings.TrimSpace(in.ID)
	var sub Subscription
	var err error
	switch {
	case id != "":
		sub, err = tx.GetBSSSubscription(ctx, appID, id)
	case strings.TrimSpace(in.SubscriptionID) != "":
		id = in.SubscriptionID
		sub, err = tx.GetBSSSubscriptionByKey(ctx, appID, "sid:"+strings.TrimSpace(in.SubscriptionID))
	default:
		return Subscription{}, refuse(errs.KindInvalid, "Subscription ID is required")
	}
	if errs.Is(err, errs.KindNotFound) {
		return Subscription{}, refuse(errs.KindNotFound, "Subscription %q not found", id)
	}
	if err != nil {
		return Subscription{}, err
	}
	if err := tx.LockBSSSubscription(ctx, appID, sub.ExternalID); err != nil {
		return Subscription{}, err
	}
	return tx.GetBSSSubscription(ctx, appID, sub.ExternalID)
}

// units is a subscription's quantity plus its live add-ons' (TB).
func units(ctx context.Context, tx Queries, sub Subscription) (int64, error) {
	addons, err := tx.ListBSSAddons(ctx, sub.AppID, sub.ExternalID)
	if err != nil {
		return 0, err
	}
	n := sub.Quantity
	for _, a := range addons {
		if a.State != StateCancelled {
			n += a.Quantity
		}
	}
	return n, nil
}

// converge sets the storage account's allocation to the subscription's
// units (quantity + live add-ons), and the partner's by the same difference:
// a grow takes capacity from the contract first, a shrink frees the account
// first, so the partner always covers its accounts.
func (s *Service) converge(ctx context.Context, tx Store, c Call, sub Subscription) error {
	n, err := units(ctx, tx, sub)
	if err != nil {
		return err
	}
	if n > maxQuantity {
		return refuseOn(errs.KindInvalid, sub.ExternalID, "Total quantity must be at most %d", maxQuantity)
	}
	sa, err := tx.Objstore().GetStorageAccount(ctx, "/", sub.PartnerID, sub.StorageAccountID)
	if err != nil {
		return err
	}
	target := n * UnitBytes
	delta := target - sa.AllocatedCapacity
	switch {
	case delta > 0:
		if err := s.resizePartner(ctx, tx, c, sub.PartnerID, delta); err != nil {
			return err
		}
		_, err = s.obj.ResizeStorageAccountTx(ctx, tx.Objstore(), c.actor(), sub.PartnerID, sa.ID, target)
		return err
	case delta < 0:
		if _, err := s.obj.ResizeStorageAccountTx(ctx, tx.Objstore(), c.actor(), sub.PartnerID, sa.ID, target); err != nil {
			return err
		}
		return s.resizePartner(ctx, tx, c, sub.PartnerID, delta)
	}
	return nil
}

func (s *Service) updateSubscription(ctx context.Context, tx Store, c Call, in SubscriptionInput) (Outcome, error) {
	sub, err := findSubscription(ctx, tx, c.Inst.AppID, in)
	if err != nil {
		return Outcome{}, err
	}
	if sub.State == StateCancelled {
		return Outcome{}, refuseOn(errs.KindPrecondition, sub.ExternalID, "Subscription %s is cancelled and cannot be updated", sub.ExternalID)
	}
	if err := checkQuantity("Subscription", in.Quantity); err != nil {
		return Outcome{}, err
	}
	if _, err := resolveProduct(in); err != nil {
		return Outcome{}, err
	}
	ok := Outcome{Message: "Subscription updated", ID: sub.ExternalID,
		Fields: map[string]string{FieldStorageID: sub.StorageAccountID}}
	if sub.Quantity == in.Quantity {
		return ok, nil
	}
	sub.Quantity, sub.UpdatedAt = in.Quantity, s.now()
	if err := tx.UpdateBSSSubscription(ctx, sub); err != nil {
		return Outcome{}, err
	}
	if err := s.converge(ctx, tx, c, sub); err != nil {
		return Outcome{}, withObject(err, sub.ExternalID)
	}
	return ok, nil
}

// withObject makes a refusal name the subscription (or add-on) it is about;
// another service's refusal of the caller's request (its kind neither
// internal nor unavailable) becomes one, its message naming the
// subscription.
func withObject(err error, ext string) error {
	if r, ok := err.(*Refusal); ok && r.Object == "" {
		return &Refusal{Object: ext, Err: r.Err}
	}
	if e, ok := err.(*errs.Error); ok && e.Kind != errs.KindInternal && e.Kind != errs.KindUnavailable {
		return &Refusal{Object: ext, Err: &errs.Error{Kind: e.Kind, Msg: "Subscription " + ext + ": " + errs.Public(e), Err: e}}
	}
	return err
}

func (s *Service) suspendSubscription(ctx context.Context, tx Store, c Call, in SubscriptionInput, suspend bool) (Outcome, error) {
	sub, err := findSubscription(ctx, tx, c.Inst.AppID, in)
	if err != nil {
		return Outcome{}, err
	}
	verb, state := "activated", StateActive
	if suspend {
		verb, state = "suspended", StateSuspended
	}
	if sub.State == StateCancelled {
		return Outcome{}, refuseOn(errs.KindPrecondition, sub.ExternalID, "Subscription %s is cancelled and cannot be %s", sub.ExternalID, verb)
	}
	ok := Outcome{Message: "Subscription " + verb, ID: sub.ExternalID}
	if sub.State == state {
		return ok, nil
	}
	if _, err := s.obj.SetSuspendedTx(ctx, tx.Objstore(), c.actor(), sub.PartnerID, sub.StorageAccountID, suspend); err != nil {
		return Outcome{}, withObject(err, sub.ExternalID)
	}
	sub.State, sub.UpdatedAt = state, s.now()
	if err := tx.UpdateBSSSubscription(ctx, sub); err != nil {
		return Outcome{}, err
	}
	return ok, nil
}

// cancelSubscription is terminal: the storage account's allocation goes
// back to the contract through the partner, its add-ons end, and its
// deletion is scheduled (objstore's grace period).
func (s *Service) cancelSubscription(ctx context.Context, tx Store, c Call, in SubscriptionInput) (Outcome, error) {
	sub, err := findSubscription(ctx, tx, c.Inst.AppID, in)
	if err != nil {
		return Outcome{}, err
	}
	ok := Outcome{Message: "Subscription cancelled", ID: sub.ExternalID}
	if sub.State == StateCancelled {
		return ok, nil
	}
	now := s.now()
	addons, err := tx.ListBSSAddons(ctx, sub.AppID, sub.ExternalID)
	if err != nil {
		return Outcome{}, err
	}
	for _, a := range addons {
		if a.State != StateCancelled {
			a.State, a.UpdatedAt = StateCancelled, now
			if err := tx.UpdateBSSAddon(ctx, a); err != nil {
				return Outcome{}, err
			}
		}
	}
	sa, err := tx.Objstore().GetStorageAccount(ctx, "/", sub.PartnerID, sub.StorageAccountID)
	if err != nil {
		return Outcome{}, err
	}
	if _, err := s.obj.ScheduleDeletionTx(ctx, tx.Objstore(), c.actor(), sub.PartnerID, sa.ID); err != nil {
		return Outcome{}, withObject(err, sub.ExternalID)
	}
	if sa.AllocatedCapacity > 0 {
		if _, err := s.obj.ResizeStorageAccountTx(ctx, tx.Objstore(), c.actor(), sub.PartnerID, sa.ID, 0); err != nil {
			return Outcome{}, withObject(err, sub.ExternalID)
		}
		if err := s.resizePartner(ctx, tx, c, sub.PartnerID, -sa.AllocatedCapacity); err != nil {
			return Outcome{}, withObject(err, sub.ExternalID)
		}
	}
	sub.State, sub.UpdatedAt = StateCancelled, now
	if err := tx.UpdateBSSSubscription(ctx, sub); err != nil {
		return Outcome{}, err
	}
	return ok, nil
}
