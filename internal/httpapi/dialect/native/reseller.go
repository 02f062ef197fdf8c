package native

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/httpapi/wire"
	"github.com/trellis-cloud/trellis/internal/orders"
	"github.com/trellis-cloud/trellis/internal/reseller"
	"github.com/trellis-cloud/trellis/internal/support"
)

// The reseller channel's operator side: the Partner API v2 keys and
// settings of a partner, account activation, project sharing, the
// catalogs, orders, support tickets and reviews. Resellers themselves use
// the ITGLOBAL dialect (/itglobal/v2).

type resellerKey struct {
	ID         string     `json:"id" format:"uuid"`
	PartnerID  string     `json:"partnerId" format:"uuid"`
	Role       string     `json:"role" enum:"User,Finance"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix" doc:"The first characters of the key, to recognise it."`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt,omitempty"`
	RevokedAt  *time.Time `json:"revokedAt,omitempty"`
	Secret     string     `json:"secret,omitempty" doc:"Only in the creation response: the key, to send as Authorization: Bearer <secret>."`
}

func resellerKeyFrom(k reseller.Key) resellerKey {
	return resellerKey{ID: k.ID, PartnerID: k.PartnerID, Role: k.Role, Name: k.Name, Prefix: k.Prefix,
		CreatedAt: k.CreatedAt.UTC(), LastUsedAt: utcPtr(k.LastUsedAt), RevokedAt: utcPtr(k.RevokedAt)}
}

type resellerKeyCreate struct {
	ID   string `path:"id" format:"uuid" doc:"The partner."`
	Body struct {
		Role string `json:"role" enum:"User,Finance" doc:"The Partner API v2 role: each operation names the roles it accepts."`
		Name string `json:"name,omitempty" minLength:"1" maxLength:"255" doc:"The role if absent."`
	}
}

type resellerKeyParam struct {
	ID    string `path:"id" format:"uuid" doc:"The partner."`
	KeyID string `path:"key_id" format:"uuid"`
}

type resellerSettings struct {
	PartnerID string   `json:"partnerId" format:"uuid"`
	TimeZone  string   `json:"timeZone" doc:"IANA zone of the by-day operation reports and ticket filters." example:"Asia/Omsk"`
	Features  []string `json:"features" doc:"Enabled features, e.g. SimpleOneSupport."`
	Currency  string   `json:"currency" doc:"Currency of the partner's new projects." example:"RUB"`
	// The provider's bound on money the partner creates (issue 14).
	MonthlyLimit          string    `json:"monthlyLimit" doc:"The most money (per currency, in currency units) the partner may record through the Partner API in a calendar month (UTC): bank and online payments, DengiOnlinePlus and BonusPlus; or unlimited." example:"1000000.00"`
	MonthlyLimitIsDefault bool      `json:"monthlyLimitIsDefault" doc:"The limit is the provider-wide default (--reseller-monthly-limit), not the partner's own."`
	UpdatedAt             time.Time `json:"updatedAt"`
}

func resellerSettingsFrom(st reseller.Settings) resellerSettings {
	f := st.Features
	if f == nil {
		f = []string{}
	}
	return resellerSettings{PartnerID: st.PartnerID, TimeZone: st.TimeZone, Features: f, Currency: st.Currency,
		MonthlyLimit: reseller.FormatMonthlyLimit(st.EffectiveMonthlyLimit), MonthlyLimitIsDefault: st.MonthlyLimit == nil,
		UpdatedAt: st.UpdatedAt.UTC()}
}

type resellerSettingsPatch struct {
	ID   string `path:"id" format:"uuid" doc:"The partner."`
	Body struct {
		TimeZone *string   `json:"timeZone,omitempty" minLength:"1" maxLength:"64" doc:"IANA time zone name." example:"Asia/Omsk"`
		Features *[]string `json:"features,omitempty" doc:"The full set of features, replacing the current one (known: SimpleOneSupport)."`
		Currency *string   `json:"currency,omitempty" enum:"RUB,KZT,BYN" doc:"ISO-4217 code of new projects' currency."`
		// A string: an amount is exact decimal money, never a float.
		MonthlyLimit *string `json:"monthlyLimit,omitempty" minLength:"1" maxLength:"32" doc:"Provider admins only: the partner's monthly limit, an amount with at most two decimals (0 lets no money be recorded), unlimited, or default (back to the provider-wide default)." example:"250000.00"`
	}
}

type resellerAccount struct {
	ID                string     `json:"id" format:"uuid"`
	PartnerID         string     `json:"partnerId" format:"uuid"`
	Email             string     `json:"email"`
	State             string     `json:"state" enum:"NotActivated,Active"`
	PersonalProjectID int64      `json:"personalProjectId"`
	CreatedAt         time.Time  `json:"createdAt"`
	ActivatedAt       *time.Time `json:"activatedAt,omitempty"`
}

func resellerAccountFrom(x reseller.Account) resellerAccount {
	return resellerAccount{ID: x.ID, PartnerID: x.PartnerID, Email: x.Email, State: x.State,
		PersonalProjectID: x.PersonalProjectID, CreatedAt: x.CreatedAt.UTC(), ActivatedAt: utcPtr(x.ActivatedAt)}
}

type activateInput struct {
	ID   string `path:"id" format:"uuid" doc:"The account."`
	Body struct {
		Token string `json:"token,omitempty" maxLength:"200" doc:"The activation link's token; operators may omit it."`
	}
}

type resellerProject struct {
	ID             int64    `json:"id"`
	PartnerID      string   `json:"partnerId" format:"uuid"`
	OwnerAccountID string   `json:"ownerAccountId"`
	Members        []string `json:"members" doc:"The accounts sharing the project, the owner first."`
	Currency       string   `json:"currency"`
	IsPostPaid     bool     `json:"isPostPaid"`
	MaxDebt        int64    `json:"maxDebtMinor" doc:"Minor units."`
	Balance        int64    `json:"balanceMinor" doc:"Money, minor units; may be negative."`
	Bonus          int64    `json:"bonusMinor" doc:"Bonus, minor units."`
	Blocked        bool     `json:"blocked"`
}

func resellerProjectFrom(p reseller.Project) resellerProject {
	m := p.Members
	if m == nil {
		m = []string{}
	}
	return resellerProject{ID: p.ID, PartnerID: p.PartnerID, OwnerAccountID: p.OwnerAccountID, Members: m,
		Currency: p.Currency, IsPostPaid: p.IsPostPaid, MaxDebt: p.MaxDebt, Balance: p.Balance, Bonus: p.Bonus,
		Blocked: p.Blocked}
}

type projectMemberParam struct {
	ID        int64  `path:"id" minimum:"1" doc:"The project."`
	AccountID string `path:"account_id" format:"uuid"`
}

type catalogParam struct {
	Kind string `path:"kind" doc:"One of the catalog kinds listed by GET /reseller/catalogs."`
}

type catalogPut struct {
	Kind string `path:"kind"`
	// Body is the whole document, checked against the kind's typed
	// document by the service. (A RawBody []byte would be documented as a
	// binary string, which no JSON document is.)
	Body json.RawMessage `doc:"The catalog document, in the shape GET returns for the kind."`
}

type catalogKinds struct {
	Kinds []string `json:"kinds"`
}

type resellerOrder struct {
	ID           int64           `json:"id"`
	PartnerID    string          `json:"partnerId" format:"uuid"`
	ProjectID    int64           `json:"projectId"`
	Kind         string          `json:"kind"`
	Name         string          `json:"name"`
	Location     string          `json:"location"`
	Spec         json.RawMessage `json:"spec"`
	State        string          `json:"state"`
	Currency     string          `json:"currency"`
	MonthlyPrice string          `json:"monthlyPrice" doc:"Exact decimal per month."`
	DailyPrice   int64           `json:"dailyPriceMinor" doc:"What a day costs, minor units."`
	NextChargeAt time.Time       `json:"nextChargeAt"`
	CreatedAt    time.Time       `json:"createdAt"`
	DeletedAt    *time.Time      `json:"deletedAt,omitempty"`
}

func resellerOrderFrom(o orders.Order) resellerOrder {
	return resellerOrder{ID: o.ID, PartnerID: o.PartnerID, ProjectID: o.ProjectID, Kind: o.Kind, Name: o.Name,
		Location: o.Location, Spec: o.Spec, State: o.State, Currency: o.Currency, MonthlyPrice: o.MonthlyPrice,
		DailyPrice: o.DailyPrice, NextChargeAt: o.NextChargeAt.UTC(), CreatedAt: o.CreatedAt.UTC(), DeletedAt: utcPtr(o.DeletedAt)}
}

type intParam struct {
	ID int64 `path:"id" minimum:"1"`
}

type ticketMessage struct {
	Author    string    `json:"author"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"createdAt"`
}

type ticket struct {
	ID        int64           `json:"id"`
	PartnerID string          `json:"partnerId" format:"uuid"`
	Kind      string          `json:"kind" enum:"client,system"`
	ProjectID int64           `json:"projectId,omitempty"`
	AccountID string          `json:"accountId,omitempty"`
	Subject   string          `json:"subject"`
	State     string          `json:"state"`
	CreatedAt time.Time       `json:"createdAt"`
	ClosedAt  *time.Time      `json:"closedAt,omitempty"`
	Messages  []ticketMessage `json:"messages"`
}

func ticketFrom(t support.Ticket) ticket {
	out := ticket{ID: t.ID, PartnerID: t.PartnerID, Kind: t.Kind, ProjectID: t.ProjectID, AccountID: t.AccountID,
		Subject: t.Subject, State: t.State, CreatedAt: t.CreatedAt.UTC(), ClosedAt: utcPtr(t.ClosedAt),
		Messages: make([]ticketMessage, len(t.Messages))}
	for i, m := range t.Messages {
		out.Messages[i] = ticketMessage{Author: m.Author, Body: m.Body, CreatedAt: m.CreatedAt.UTC()}
	}
	return out
}

type ticketCreate struct {
	ID   string `path:"id" format:"uuid" doc:"The partner."`
	Body struct {
		Kind      string `json:"kind,omitempty" enum:"client,system" doc:"client (default) or system."`
		ProjectID int64  `json:"projectId,omitempty" minimum:"1" doc:"A project of the partner."`
		AccountID string `json:"accountId,omitempty" maxLength:"64"`
		Subject   string `json:"subject" minLength:"1" maxLength:"255"`
		Author    string `json:"author,omitempty" maxLength:"255" doc:"The caller's key id if absent."`
		Body      string `json:"body" minLength:"1" maxLength:"65536"`
	}
}

type ticketMessageCreate struct {
	ID   int64 `path:"id" minimum:"1"`
	Body struct {
		Author string `json:"author,omitempty" maxLength:"255" doc:"The caller's key id if absent."`
		Body   string `json:"body" minLength:"1" maxLength:"65536"`
	}
}

type ticketPatch struct {
	ID   int64 `path:"id" minimum:"1"`
	Body struct {
		State string `json:"state" enum:"Open,InProgress,Closed"`
	}
}

type review struct {
	ID        int64     `json:"id"`
	Author    string    `json:"author"`
	Text      string    `json:"text"`
	Rating    int       `json:"rating"`
	CreatedAt time.Time `json:"createdAt"`
}

type reviewCreate struct {
	Body struct {
		Author string `json:"author" minLength:"1" maxLength:"255"`
		Text   string `json:"text" minLength:"1" maxLength:"4096"`
		Rating int    `json:"rating" minimum:"1" maximum:"5"`
	}
}

// The support domain names fields the way the Partner API v2 sends them
// (snake_case); project sharing names the account accountId. This API's
// names are renamed on the way out.
var (
	ticketFields = map[string]string{"project_id": "projectId", "account_id": "accountId", "partner_id": "id"}
	shareFields  = map[string]string{"accountId": "account_id"}
)

func (s *server) registerReseller(api huma.API) {
	tags := []string{"reseller"}
	reg := func(id, method, path, summary string) huma.Operation {
		op := huma.Operation{OperationID: id, Method: method, Path: path, Tags: tags, Summary: summary}
		if method == http.MethodPost {
			op.DefaultStatus = http.StatusCreated
		}
		return op
	}
	register(api, reg("listResellerKeys", http.MethodGet, "/partners/{id}/reseller-keys",
		"List a partner's Partner API v2 keys"), s.listResellerKeys)
	register(api, reg("createResellerKey", http.MethodPost, "/partners/{id}/reseller-keys",
		"Create a Partner API v2 key (role User or Finance) for a partner"), s.createResellerKey)
	register(api, reg("revokeResellerKey", http.MethodDelete, "/partners/{id}/reseller-keys/{key_id}",
		"Revoke a Partner API v2 key"), s.revokeResellerKey)
	register(api, reg("getResellerSettings", http.MethodGet, "/partners/{id}/reseller-settings",
		"A partner's reseller settings: time zone, features, currency, monthly limit"), s.getResellerSettings)
	register(api, reg("updateResellerSettings", http.MethodPatch, "/partners/{id}/reseller-settings",
		"Change a partner's time zone, features (SimpleOneSupport) or currency (operators), or its monthly limit (provider admins)"), s.patchResellerSettings)
	op := reg("activateResellerAccount", http.MethodPost, "/reseller/accounts/{id}/activate",
		"Activate a NotActivated reseller account")
	op.DefaultStatus = http.StatusOK
	register(api, op, s.activateResellerAccount)
	register(api, reg("shareResellerProject", http.MethodPut, "/reseller/projects/{id}/members/{account_id}",
		"Share a project with another account of the same partner"), s.shareProject)
	register(api, reg("unshareResellerProject", http.MethodDelete, "/reseller/projects/{id}/members/{account_id}",
		"Stop sharing a project with an account (not its owner)"), s.unshareProject)
	register(api, reg("listResellerCatalogs", http.MethodGet, "/reseller/catalogs",
		"The kinds of the reseller catalogs (tariffs, locations, products)"), s.listCatalogs)
	register(api, reg("getResellerCatalog", http.MethodGet, "/reseller/catalogs/{kind}",
		"A reseller catalog as JSON"), s.getCatalog)
	register(api, reg("putResellerCatalog", http.MethodPut, "/reseller/catalogs/{kind}",
		"Replace a reseller catalog (provider admins); prices of existing orders are kept"), s.putCatalog)
	register(api, reg("listResellerOrders", http.MethodGet, "/reseller/projects/{id}/orders",
		"A project's orders (servers, clusters, 1C, VOrgs, VDCs)"), s.listOrders)
	register(api, reg("deleteResellerOrder", http.MethodDelete, "/reseller/orders/{id}",
		"Delete an order: the service is removed and no longer charged"), s.deleteOrder)
	register(api, reg("createTicket", http.MethodPost, "/partners/{id}/tickets",
		"Open a client or system support ticket for a partner"), s.createTicket)
	op = reg("addTicketMessage", http.MethodPost, "/tickets/{id}/messages", "Add a message to a ticket")
	register(api, op, s.addTicketMessage)
	register(api, reg("setTicketState", http.MethodPatch, "/tickets/{id}",
		"Move a ticket to Open, InProgress or Closed"), s.setTicketState)
	register(api, reg("addReview", http.MethodPost, "/reviews",
		"Add a customer review (served by the Partner API's reviews route)"), s.addReview)
}

func (s *server) listResellerKeys(ctx context.Context, in *idParam) (*output[list[resellerKey]], error) {
	return call(ctx, s, func(a actor.Actor) ([]reseller.Key, error) {
		return s.d.Reseller.ListKeys(ctx, a, in.ID)
	}, func(ks []reseller.Key) list[resellerKey] {
		return list[resellerKey]{Items: wire.Map(ks, resellerKeyFrom)}
	})
}

func (s *server) createResellerKey(ctx context.Context, in *resellerKeyCreate) (*output[resellerKey], error) {
	return call(ctx, s, func(a actor.Actor) (reseller.CreatedKey, error) {
		name := in.Body.Name
		if name == "" {
			name = in.Body.Role // the service requires a name; the API documents it as optional
		}
		return s.d.Reseller.CreateKey(ctx, a, in.ID, in.Body.Role, name, "")
	}, func(k reseller.CreatedKey) resellerKey {
		out := resellerKeyFrom(k.Key)
		out.Secret = k.Secret
		return out
	})
}

func (s *server) revokeResellerKey(ctx context.Context, in *resellerKeyParam) (*struct{}, error) {
	a, err := caller(ctx)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	if err := s.d.Reseller.RevokeKey(ctx, a, in.ID, in.KeyID); err != nil {
		return nil, s.fail(ctx, err)
	}
	return nil, nil
}

func (s *server) getResellerSettings(ctx context.Context, in *idParam) (*output[resellerSettings], error) {
	return call(ctx, s, func(a actor.Actor) (reseller.Settings, error) {
		return s.d.Reseller.Settings(ctx, a, in.ID)
	}, resellerSettingsFrom)
}

func (s *server) patchResellerSettings(ctx context.Context, in *resellerSettingsPatch) (*output[resellerSettings], error) {
	return call(ctx, s, func(a actor.Actor) (reseller.Settings, error) {
		si := reseller.SettingsInput{Features: in.Body.Features, Currency: in.Body.Currency, TimeZone: in.Body.TimeZone}
		if l := in.Body.MonthlyLimit; l != nil && *l == "default" {
			si.DefaultMonthlyLimit = true
		} else if l != nil {
			v, err := reseller.ParseMonthlyLimit("monthlyLimit", *l)
			if err != nil {
				return reseller.Settings{}, err
			}
			si.MonthlyLimit = &v
		}
		return s.d.Reseller.UpdateSettings(ctx, a, in.ID, si)
	}, resellerSettingsFrom)
}

func (s *server) activateResellerAccount(ctx context.Context, in *activateInput) (*output[resellerAccount], error) {
	return call(ctx, s, func(a actor.Actor) (reseller.Account, error) {
		return s.d.Reseller.ActivateAccount(ctx, a, in.ID, in.Body.Token)
	}, resellerAccountFrom)
}

func (s *server) shareProject(ctx context.Context, in *projectMemberParam) (*output[resellerProject], error) {
	return call(ctx, s, func(a actor.Actor) (reseller.Project, error) {
		p, err := s.d.Reseller.ShareProject(ctx, a, in.ID, in.AccountID)
		return p, renameFields(err, shareFields)
	}, resellerProjectFrom)
}

func (s *server) unshareProject(ctx context.Context, in *projectMemberParam) (*output[resellerProject], error) {
	return call(ctx, s, func(a actor.Actor) (reseller.Project, error) {
		p, err := s.d.Reseller.UnshareProject(ctx, a, in.ID, in.AccountID)
		return p, renameFields(err, shareFields)
	}, resellerProjectFrom)
}

func (s *server) listCatalogs(ctx context.Context, _ *struct{}) (*output[catalogKinds], error) {
	return call(ctx, s, func(actor.Actor) ([]string, error) { return orders.CatalogKinds(), nil },
		func(k []string) catalogKinds { return catalogKinds{Kinds: k} })
}

// rawJSON is a catalog document as stored.
type rawJSON struct {
	Body json.RawMessage
}

func (s *server) getCatalog(ctx context.Context, in *catalogParam) (*rawJSON, error) {
	if _, err := caller(ctx); err != nil {
		return nil, s.fail(ctx, err)
	}
	b, err := s.d.Orders.GetCatalog(ctx, in.Kind)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &rawJSON{Body: b}, nil
}

func (s *server) putCatalog(ctx context.Context, in *catalogPut) (*rawJSON, error) {
	a, err := caller(ctx)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	b, err := s.d.Orders.PutCatalog(ctx, a, in.Kind, in.Body)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &rawJSON{Body: b}, nil
}

func (s *server) listOrders(ctx context.Context, in *intParam) (*output[list[resellerOrder]], error) {
	return call(ctx, s, func(a actor.Actor) ([]orders.Order, error) {
		return s.d.Orders.ListOrders(ctx, a, in.ID)
	}, func(os []orders.Order) list[resellerOrder] {
		return list[resellerOrder]{Items: wire.Map(os, resellerOrderFrom)}
	})
}

func (s *server) deleteOrder(ctx context.Context, in *intParam) (*output[resellerOrder], error) {
	return call(ctx, s, func(a actor.Actor) (orders.Order, error) {
		return s.d.Orders.DeleteOrder(ctx, a, in.ID)
	}, resellerOrderFrom)
}

func (s *server) createTicket(ctx context.Context, in *ticketCreate) (*output[ticket], error) {
	return call(ctx, s, func(a actor.Actor) (support.Ticket, error) {
		t, err := s.d.Support.CreateTicket(ctx, a, support.CreateTicketInput{PartnerID: in.ID, Kind: in.Body.Kind,
			ProjectID: in.Body.ProjectID, AccountID: in.Body.AccountID, Subject: in.Body.Subject,
			Author: in.Body.Author, Body: in.Body.Body})
		return t, renameFields(err, ticketFields)
	}, ticketFrom)
}

func (s *server) addTicketMessage(ctx context.Context, in *ticketMessageCreate) (*output[ticket], error) {
	return call(ctx, s, func(a actor.Actor) (support.Ticket, error) {
		return s.d.Support.AddMessage(ctx, a, in.ID, in.Body.Author, in.Body.Body)
	}, ticketFrom)
}

func (s *server) setTicketState(ctx context.Context, in *ticketPatch) (*output[ticket], error) {
	return call(ctx, s, func(a actor.Actor) (support.Ticket, error) {
		return s.d.Support.SetState(ctx, a, in.ID, in.Body.State)
	}, ticketFrom)
}

func (s *server) addReview(ctx context.Context, in *reviewCreate) (*output[review], error) {
	return call(ctx, s, func(a actor.Actor) (support.Review, error) {
		return s.d.Support.AddReview(ctx, a, support.ReviewInput{Author: in.Body.Author, Text: in.Body.Text,
			Rating: in.Body.Rating})
	}, func(r support.Review) review {
		return review{ID: r.ID, Author: r.Author, Text: r.Text, Rating: r.Rating, CreatedAt: r.CreatedAt.UTC()}
	})
}
