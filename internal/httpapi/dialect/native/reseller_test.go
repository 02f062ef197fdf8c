package native

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/wiring"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/jobs"
	"github.com/trellis-cloud/trellis/internal/orders"
	orderssim "github.com/trellis-cloud/trellis/internal/orders/sim"
	"github.com/trellis-cloud/trellis/internal/reseller"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/support"
)

// The reseller channel's operator routes (reseller.go): Partner API v2
// keys and settings, account activation, project sharing, catalogs,
// orders, support tickets and reviews. The env holds, for partners A and
// B each, a Partner API v2 key, an active account with its personal
// project (credited), a NotActivated account, a vStack server order and an
// open ticket; A's project also has a VOrg with a VDC (a VOrg that cannot
// be deleted). paAdmin is a native admin key of partner A itself.

// paAdmin is partner A's own native admin key: below the operators that
// set features, catalogs and reviews.
const paAdmin = "partner-a-admin"

// resellerEnv are the reseller objects of the fixture.
type resellerEnv struct {
	keyA, keyB       string // Partner API v2 key ids
	acctA, acctB     string // active accounts
	acctA2, acctB2   string // NotActivated accounts
	projA, projB     int64  // the active accounts' personal projects
	orderA, orderB   int64  // vStack servers
	vorgA            int64  // a VOrg of projA that has a VDC
	ticketA, ticketB int64  // open client tickets
}

// addResellerDeps adds the reseller core, orders (on the sim provider,
// steps inline) and support, wired like the app does; st must carry the
// job queue q.
func addResellerDeps(deps *Deps, st *sqlstore.Store, clk clock.Clock, q *jobs.Queue) {
	deps.Support = support.NewService(sqlstore.Support{Store: st}, clk)
	deps.Reseller = wiring.Must(reseller.NewService(sqlstore.Reseller{Store: st}, deps.Billing, deps.Ledger, clk,
		reseller.Deps{Services: orders.ProjectHooks{}, Tickets: deps.Support, Blocks: orders.ProjectHooks{}}, reseller.Config{}))
	deps.Orders = orders.NewService(sqlstore.Orders{Store: st}, deps.Reseller, orderssim.New(0), clk, orders.Config{})
	jobs.AddWorker(q, deps.Orders.RunOrderStep)
}

// partnerActor is a Partner API v2 key of the partner with role.
func (e *env) partnerActor(t *testing.T, partnerID, role string) actor.Actor {
	t.Helper()
	p, err := e.deps.Tenancy.GetPartner(t.Context(), actor.System(""), partnerID)
	if err != nil {
		t.Fatal(err)
	}
	return actor.Actor{Type: actor.TypeAPIKey, ID: "seed-" + strings.ToLower(role), OrgID: p.ID, OrgPath: p.Path,
		OrgKind: actor.Partner, Role: actor.Staff, ResellerRole: role, RequestID: "seed"}
}

// vstackOrder is the seed's vStack sample with one 50 GB SSD volume: 4705.00
// a month, 156.83 a day.
func vstackOrder(project int64) orders.VStackServerInput {
	return orders.VStackServerInput{ProjectID: project, LocationID: 1, Name: "Example", Cpu: 4, RamMb: 8192,
		TemplateID: "1", Volumes: []json.RawMessage{json.RawMessage(`{"Size":50,"Type":"SSD"}`)}, BandwidthMbps: 50}
}

func (e *env) seedReseller(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	r := &e.reseller
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []struct {
		id                  string
		key, acct, acct2    *string
		proj, order, ticket *int64
	}{
		{e.partnerA, &r.keyA, &r.acctA, &r.acctA2, &r.projA, &r.orderA, &r.ticketA},
		{e.partnerB, &r.keyB, &r.acctB, &r.acctB2, &r.projB, &r.orderB, &r.ticketB},
	} {
		user, finance := e.partnerActor(t, p.id, reseller.RoleUser), e.partnerActor(t, p.id, reseller.RoleFinance)
		k, err := e.deps.Reseller.CreateKey(ctx, actor.System(""), p.id, reseller.RoleUser, "seed", "")
		must(err)
		*p.key = k.ID
		acct, err := e.deps.Reseller.CreateAccount(ctx, user, reseller.CreateAccountInput{Email: "owner@" + p.id[:8] + ".example",
			State: reseller.StateActive})
		must(err)
		*p.acct, *p.proj = acct.ID, acct.PersonalProjectID
		acct2, err := e.deps.Reseller.CreateAccount(ctx, user, reseller.CreateAccountInput{Email: "new@" + p.id[:8] + ".example",
			State: reseller.StateNotActivated})
		must(err)
		*p.acct2 = acct2.ID
		_, err = e.deps.Reseller.CreateOperation(ctx, finance, *p.proj, reseller.OpDengiOnlinePlus, 1_000_000) // 10 000.00
		must(err)
		o, err := e.deps.Orders.CreateVStackServer(ctx, user, vstackOrder(*p.proj))
		must(err)
		*p.order = o.ID
		tk, err := e.deps.Support.CreateTicket(ctx, user, support.CreateTicketInput{ProjectID: *p.proj, AccountID: acct.ID,
			Subject: "Slow disk", Author: "owner", Body: "The disk is slow."})
		must(err)
		*p.ticket = tk.ID
	}
	user := e.partnerActor(t, e.partnerA, reseller.RoleUser)
	vorg, err := e.deps.Orders.CreateVOrg(ctx, user, orders.VOrgInput{ProjectID: r.projA, Location: "kz", VcloudOrgName: "org",
		AdminUsername: "admin", AdminPassword: "Passw0rd!x"})
	must(err)
	r.vorgA = vorg.ID
	_, err = e.deps.Orders.CreateVDC(ctx, user, orders.VDCInput{OrgID: vorg.ID, VcloudVdcName: "vdc"})
	must(err)

	k := e.ok(t, http.StatusCreated, "POST", "/keys", provAdmin, `{"orgId":"`+e.partnerA+`","name":"`+paAdmin+`","role":"admin"}`)
	e.keyIDs[paAdmin], e.secrets[paAdmin] = str(k["id"]), str(k["secret"])
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// resellerAuthzCases are the reseller operations for authzCases. Keys and
// settings are the business of admins (settings: of an operator above the
// partner); the catalogs are the provider's (anyone reads them, provider
// admins replace them); reviews are added by the provider's staff; the rest is staff work on the partner's objects, read by viewers.
func (e *env) resellerAuthzCases() []authzCase {
	r := e.reseller
	viewers := []string{aViewer, provViewer}
	admins := []string{aViewer, aStaff, provViewer, provStaff}
	operatorAdmins := []string{aViewer, aStaff, provViewer, provStaff, paAdmin}
	keys, keysB := "/partners/"+e.partnerA+"/reseller-keys", "/partners/"+e.partnerB+"/reseller-keys"
	settings, settingsB := "/partners/"+e.partnerA+"/reseller-settings", "/partners/"+e.partnerB+"/reseller-settings"
	members := func(proj int64, acct string) string { return "/reseller/projects/" + itoa(proj) + "/members/" + acct }
	return []authzCase{
		{method: "GET", path: keys, forbidden: admins, foreignPath: keysB},
		{method: "POST", path: keys, body: `{"role":"User","name":"k"}`, forbidden: admins, foreignPath: keysB},
		{method: "DELETE", path: keys + "/" + r.keyA, forbidden: admins, foreignPath: keysB + "/" + r.keyB},
		{method: "GET", path: settings, foreignPath: settingsB},
		{method: "PATCH", path: settings, body: `{"timeZone":"Asia/Omsk"}`, forbidden: operatorAdmins, foreignPath: settingsB},

		{method: "POST", path: "/reseller/accounts/" + r.acctA2 + "/activate", body: `{}`, forbidden: viewers,
			foreignPath: "/reseller/accounts/" + r.acctB2 + "/activate"},
		{method: "PUT", path: members(r.projA, r.acctA2), forbidden: viewers, foreignPath: members(r.projB, r.acctB2)},
		{method: "DELETE", path: members(r.projA, r.acctA2), forbidden: viewers, foreignPath: members(r.projB, r.acctB2)},

		{method: "GET", path: "/reseller/catalogs"},
		{method: "GET", path: "/reseller/catalogs/" + orders.CatalogVStack},
		{method: "PUT", path: "/reseller/catalogs/" + orders.CatalogSSL, body: e.catalog(orders.CatalogSSL), forbidden: append(operatorAdmins, aAdmin)},
		{method: "GET", path: "/reseller/projects/" + itoa(r.projA) + "/orders", foreignPath: "/reseller/projects/" + itoa(r.projB) + "/orders"},
		{method: "DELETE", path: "/reseller/orders/" + itoa(r.orderA), forbidden: viewers, foreignPath: "/reseller/orders/" + itoa(r.orderB)},

		{method: "POST", path: "/partners/" + e.partnerA + "/tickets", body: `{"subject":"s","body":"b"}`, forbidden: viewers,
			foreignPath: "/partners/" + e.partnerB + "/tickets"},
		{method: "POST", path: "/tickets/" + itoa(r.ticketA) + "/messages", body: `{"body":"b"}`, forbidden: viewers,
			foreignPath: "/tickets/" + itoa(r.ticketB) + "/messages"},
		{method: "PATCH", path: "/tickets/" + itoa(r.ticketA), body: `{"state":"Closed"}`, forbidden: viewers,
			foreignPath: "/tickets/" + itoa(r.ticketB)},
		{method: "POST", path: "/reviews", body: `{"author":"a","text":"t","rating":5}`, forbidden: []string{aViewer, aStaff, aAdmin, provViewer, paAdmin}},
	}
}

// catalog is the default document of kind, as a request body.
func (e *env) catalog(kind string) string {
	b, err := orders.DefaultCatalog(kind)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// resellerBadRoutes are the reseller operations for badRoutes.
func (e *env) resellerBadRoutes() []badRoute {
	r := e.reseller
	keys := "/partners/" + e.partnerA + "/reseller-keys"
	settings := "/partners/" + e.partnerA + "/reseller-settings"
	activate := "/reseller/accounts/" + r.acctA2 + "/activate"
	members := func(proj, acct string) string { return "/reseller/projects/" + proj + "/members/" + acct }
	share := members(itoa(r.projA), r.acctA2)
	ssl := e.catalog(orders.CatalogSSL)
	vstack := e.catalog(orders.CatalogVStack)
	tickets := "/partners/" + e.partnerA + "/tickets"
	ticket := "/tickets/" + itoa(r.ticketA)
	review := `"author":"a","text":"t"`
	join := func(lists ...[]badCase) []badCase { return slices.Concat(lists...) }
	return []badRoute{
		{"POST", keys, join(bodyCases(`"role":"User","name":"k"`), nameCases("name", `"role":"User"`), []badCase{
			{name: "role missing", body: `{"name":"k"}`, status: 422, field: "role"},
			{name: "role unknown", body: `{"role":"Admin","name":"k"}`, status: 422, field: "role"},
			{name: "role lower case", body: `{"role":"user","name":"k"}`, status: 422, field: "role"},
			{name: "partner malformed", path: "/partners/x/reseller-keys", body: `{"role":"User","name":"k"}`, status: 422, field: "id"},
			{name: "partner unknown", path: "/partners/" + unknownID + "/reseller-keys", body: `{"role":"User","name":"k"}`, status: 404, specValid: true},
			{name: "not a partner", path: "/partners/" + e.distA + "/reseller-keys", body: `{"role":"User","name":"k"}`, status: 404, specValid: true},
			{name: "partner foreign", key: aAdmin, path: "/partners/" + e.partnerB + "/reseller-keys", body: `{"role":"User","name":"k"}`, status: 404, specValid: true},
			{name: "a staff key", key: aStaff, body: `{"role":"User","name":"k"}`, status: 403, specValid: true},
		})},
		{"DELETE", keys + "/" + r.keyA, []badCase{
			{name: "key malformed", path: keys + "/x", status: 422, field: "key_id"},
			{name: "key unknown", path: keys + "/" + unknownID, status: 404, specValid: true},
			{name: "key of another partner", path: keys + "/" + r.keyB, status: 404, specValid: true},
			{name: "partner malformed", path: "/partners/x/reseller-keys/" + r.keyA, status: 422, field: "id"},
			{name: "partner foreign", key: aAdmin, path: "/partners/" + e.partnerB + "/reseller-keys/" + r.keyB, status: 404, specValid: true},
			{name: "a staff key", key: aStaff, status: 403, specValid: true},
		}},
		{"PATCH", settings, join(bodyCases(`"timeZone":"UTC"`), []badCase{
			{name: "timeZone unknown", body: `{"timeZone":"Mars/Olympus"}`, status: 400, field: "timeZone", specValid: true},
			{name: "timeZone empty", body: `{"timeZone":""}`, status: 422, field: "timeZone"},
			{name: "timeZone wrong type", body: `{"timeZone":6}`, status: 422, field: "timeZone"},
			{name: "currency unsupported", body: `{"currency":"EUR"}`, status: 422, field: "currency"},
			{name: "currency lower case", body: `{"currency":"rub"}`, status: 422, field: "currency"},
			{name: "features unknown", body: `{"features":["SimpleOneSupport","Teleport"]}`, status: 400, field: "features[1]", specValid: true},
			{name: "features not a list", body: `{"features":"SimpleOneSupport"}`, status: 422, field: "features"},
			{name: "partner malformed", path: "/partners/x/reseller-settings", body: `{"timeZone":"UTC"}`, status: 422, field: "id"},
			{name: "partner unknown", path: "/partners/" + unknownID + "/reseller-settings", body: `{"timeZone":"UTC"}`, status: 404, specValid: true},
			{name: "partner foreign", key: aAdmin, path: "/partners/" + e.partnerB + "/reseller-settings", body: `{"timeZone":"UTC"}`, status: 404, specValid: true},
			{name: "the partner's own admin", key: paAdmin, body: `{"features":["SimpleOneSupport"]}`, status: 403, specValid: true},
		})},
		{"POST", activate, join(bodyCases(`"token":"t"`), []badCase{
			{name: "token wrong", body: `{"token":"not-the-token"}`, status: 400, field: "token", specValid: true},
			{name: "token too long", body: `{"token":"` + strings.Repeat("t", 201) + `"}`, status: 422, field: "token"},
			{name: "token wrong type", body: `{"token":1}`, status: 422, field: "token"},
			{name: "account malformed", path: "/reseller/accounts/x/activate", body: `{}`, status: 422, field: "id"},
			{name: "account unknown", path: "/reseller/accounts/" + unknownID + "/activate", body: `{}`, status: 404, specValid: true},
			{name: "account foreign", key: aAdmin, path: "/reseller/accounts/" + r.acctB2 + "/activate", body: `{}`, status: 404, specValid: true},
			{name: "a viewer", key: aViewer, body: `{}`, status: 403, specValid: true},
		})},
		{"PUT", share, []badCase{
			{name: "project malformed", path: members("x", r.acctA2), status: 422, field: "id"},
			{name: "project zero", path: members("0", r.acctA2), status: 422, field: "id"},
			{name: "project unknown", path: members("999999", r.acctA2), status: 404, specValid: true},
			{name: "project foreign", key: aAdmin, path: members(itoa(r.projB), r.acctB2), status: 404, specValid: true},
			{name: "account malformed", path: members(itoa(r.projA), "x"), status: 422, field: "account_id"},
			{name: "account unknown", path: members(itoa(r.projA), unknownID), status: 404, field: "account_id", specValid: true},
			{name: "account of another partner", path: members(itoa(r.projA), r.acctB), status: 404, field: "account_id", specValid: true},
			{name: "a viewer", key: aViewer, status: 403, specValid: true},
		}},
		{"DELETE", share, []badCase{
			{name: "the owner", path: members(itoa(r.projA), r.acctA), status: 400, field: "account_id", specValid: true},
			{name: "project malformed", path: members("x", r.acctA2), status: 422, field: "id"},
			{name: "project unknown", path: members("999999", r.acctA2), status: 404, specValid: true},
			{name: "project foreign", key: aAdmin, path: members(itoa(r.projB), r.acctB2), status: 404, specValid: true},
			{name: "account malformed", path: members(itoa(r.projA), "x"), status: 422, field: "account_id"},
			{name: "account unknown", path: members(itoa(r.projA), unknownID), status: 404, field: "account_id", specValid: true},
			{name: "a viewer", key: aViewer, status: 403, specValid: true},
		}},
		{"PUT", "/reseller/catalogs/" + orders.CatalogSSL, []badCase{
			{name: "malformed JSON", body: `{"Products":`, status: 400, field: "body"},
			{name: "oversize", body: `{"details":"` + strings.Repeat("x", outerLimit) + `"}`, status: 413, field: "body", specValid: true},
			{name: "empty body", body: "", status: 400, field: "body"},
			{name: "kind unknown", path: "/reseller/catalogs/bananas", body: ssl, status: 400, field: "kind", specValid: true},
			{name: "another kind's document", body: vstack, status: 400, field: "body", specValid: true},
			{name: "not the document's shape", body: `[1,2]`, status: 400, field: "body", specValid: true},
			{name: "unknown field", body: strings.Replace(ssl, `{`, `{"bogus":1,`, 1), status: 400, field: "body", specValid: true},
			{name: "price negative", path: "/reseller/catalogs/" + orders.CatalogVStack,
				body: strings.Replace(vstack, `"CpuCorePerMonth":450.00`, `"CpuCorePerMonth":-450.0`, 1), status: 400,
				field: "Locations[0].Prices", specValid: true},
			{name: "price a string", path: "/reseller/catalogs/" + orders.CatalogVStack,
				body: strings.Replace(vstack, `"CpuCorePerMonth":450.00`, `"CpuCorePerMonth":"450"`, 1), status: 400, field: "body", specValid: true},
			{name: "a staff key", key: aStaff, body: ssl, status: 403, specValid: true},
			{name: "the partner's own admin", key: paAdmin, body: ssl, status: 403, specValid: true},
		}},
		{"DELETE", "/reseller/orders/" + itoa(r.orderA), []badCase{
			{name: "id malformed", path: "/reseller/orders/x", status: 422, field: "id"},
			{name: "id zero", path: "/reseller/orders/0", status: 422, field: "id"},
			{name: "id unknown", path: "/reseller/orders/999999", status: 404, field: "id", specValid: true},
			{name: "id foreign", key: aAdmin, path: "/reseller/orders/" + itoa(r.orderB), status: 404, field: "id", specValid: true},
			{name: "a VOrg with a VDC", path: "/reseller/orders/" + itoa(r.vorgA), status: 409, specValid: true},
			{name: "a viewer", key: aViewer, status: 403, specValid: true},
		}},
		{"POST", tickets, join(bodyCases(`"subject":"s","body":"b"`), []badCase{
			{name: "subject missing", body: `{"body":"b"}`, status: 422, field: "subject"},
			{name: "subject empty", body: `{"subject":"","body":"b"}`, status: 422, field: "subject"},
			{name: "subject blank", body: `{"subject":"  ","body":"b"}`, status: 400, field: "subject", specValid: true},
			{name: "subject too long", body: `{"subject":"` + strings.Repeat("é", 256) + `","body":"b"}`, status: 422, field: "subject"},
			{name: "body missing", body: `{"subject":"s"}`, status: 422, field: "body"},
			{name: "body blank", body: `{"subject":"s","body":" "}`, status: 400, field: "body", specValid: true},
			{name: "kind unknown", body: `{"kind":"urgent","subject":"s","body":"b"}`, status: 422, field: "kind"},
			{name: "projectId negative", body: `{"projectId":-1,"subject":"s","body":"b"}`, status: 422, field: "projectId"},
			{name: "projectId unknown", body: `{"projectId":999999,"subject":"s","body":"b"}`, status: 400, field: "projectId", specValid: true},
			{name: "projectId of another partner", body: `{"projectId":` + itoa(r.projB) + `,"subject":"s","body":"b"}`, status: 400, field: "projectId", specValid: true},
			{name: "projectId not an integer", body: `{"projectId":1.5,"subject":"s","body":"b"}`, status: 422, field: "projectId"},
			{name: "accountId too long", body: `{"accountId":"` + strings.Repeat("a", 65) + `","subject":"s","body":"b"}`, status: 422, field: "accountId"},
			{name: "author too long", body: `{"author":"` + strings.Repeat("a", 256) + `","subject":"s","body":"b"}`, status: 422, field: "author"},
			{name: "partner malformed", path: "/partners/x/tickets", body: `{"subject":"s","body":"b"}`, status: 422, field: "id"},
			{name: "partner unknown", path: "/partners/" + unknownID + "/tickets", body: `{"subject":"s","body":"b"}`, status: 404, field: "id", specValid: true},
			{name: "not a partner", path: "/partners/" + e.distA + "/tickets", body: `{"subject":"s","body":"b"}`, status: 404, field: "id", specValid: true},
			{name: "partner foreign", key: aAdmin, path: "/partners/" + e.partnerB + "/tickets", body: `{"subject":"s","body":"b"}`, status: 404, field: "id", specValid: true},
			{name: "a viewer", key: aViewer, body: `{"subject":"s","body":"b"}`, status: 403, specValid: true},
		})},
		{"POST", ticket + "/messages", join(bodyCases(`"body":"b"`), []badCase{
			{name: "body missing", body: `{"author":"a"}`, status: 422, field: "body"},
			{name: "body blank", body: `{"body":"\n"}`, status: 400, field: "body", specValid: true},
			{name: "body wrong type", body: `{"body":["b"]}`, status: 422, field: "body"},
			{name: "author too long", body: `{"author":"` + strings.Repeat("a", 256) + `","body":"b"}`, status: 422, field: "author"},
			{name: "ticket malformed", path: "/tickets/x/messages", body: `{"body":"b"}`, status: 422, field: "id"},
			{name: "ticket unknown", path: "/tickets/999999/messages", body: `{"body":"b"}`, status: 404, field: "id", specValid: true},
			{name: "ticket foreign", key: aAdmin, path: "/tickets/" + itoa(r.ticketB) + "/messages", body: `{"body":"b"}`, status: 404, field: "id", specValid: true},
			{name: "a viewer", key: aViewer, body: `{"body":"b"}`, status: 403, specValid: true},
		})},
		{"PATCH", ticket, join(bodyCases(`"state":"Closed"`), []badCase{
			{name: "state missing", body: `{}`, status: 422, field: "state"},
			{name: "state unknown", body: `{"state":"Done"}`, status: 422, field: "state"},
			{name: "state lower case", body: `{"state":"closed"}`, status: 422, field: "state"},
			{name: "ticket malformed", path: "/tickets/x", body: `{"state":"Closed"}`, status: 422, field: "id"},
			{name: "ticket zero", path: "/tickets/0", body: `{"state":"Closed"}`, status: 422, field: "id"},
			{name: "ticket unknown", path: "/tickets/999999", body: `{"state":"Closed"}`, status: 404, field: "id", specValid: true},
			{name: "ticket foreign", key: aAdmin, path: "/tickets/" + itoa(r.ticketB), body: `{"state":"Closed"}`, status: 404, field: "id", specValid: true},
			{name: "a viewer", key: aViewer, body: `{"state":"Closed"}`, status: 403, specValid: true},
		})},
		{"POST", "/reviews", join(bodyCases(review+`,"rating":5`), nameCases("author", `"text":"t","rating":5`), []badCase{
			{name: "rating missing", body: `{` + review + `}`, status: 422, field: "rating"},
			{name: "rating zero", body: `{` + review + `,"rating":0}`, status: 422, field: "rating"},
			{name: "rating six", body: `{` + review + `,"rating":6}`, status: 422, field: "rating"},
			{name: "rating non-integer", body: `{` + review + `,"rating":4.5}`, status: 422, field: "rating"},
			{name: "rating string", body: `{` + review + `,"rating":"5"}`, status: 422, field: "rating"},
			{name: "text missing", body: `{"author":"a","rating":5}`, status: 422, field: "text"},
			{name: "text blank", body: `{"author":"a","text":" ","rating":5}`, status: 400, field: "text", specValid: true},
			{name: "text too long", body: `{"author":"a","text":"` + strings.Repeat("t", 4097) + `","rating":5}`, status: 422, field: "text"},
			{name: "the partner's own admin", key: paAdmin, body: `{` + review + `,"rating":5}`, status: 403, specValid: true},
			{name: "a viewer", key: provViewer, body: `{` + review + `,"rating":5}`, status: 403, specValid: true},
		})},
	}
}

// scenarioReseller answers every reseller operation with 2xx and reads
// each change back.
func (e *env) scenarioReseller(t *testing.T) {
	ctx := t.Context()
	r := e.reseller
	keys := "/partners/" + e.partnerA + "/reseller-keys"

	// Keys: created with a secret shown once, which authenticates on the
	// Partner API v2 until it is revoked.
	if got := items(e.ok(t, 200, "GET", keys, aAdmin, "")); !slices.Equal(got, []string{r.keyA}) {
		t.Errorf("A's reseller keys = %v", got)
	}
	k := e.ok(t, 201, "POST", keys, aAdmin, `{"role":"Finance","name":"books"}`)
	secret, id := str(k["secret"]), str(k["id"])
	if !strings.HasPrefix(secret, reseller.KeyPrefix) || k["prefix"] != secret[:8] || k["role"] != "Finance" ||
		k["name"] != "books" || k["partnerId"] != e.partnerA || k["revokedAt"] != nil {
		t.Errorf("created reseller key = %v", k)
	}
	if a, err := e.deps.Reseller.Authenticate(ctx, secret, ""); err != nil || a.OrgID != e.partnerA || a.ResellerRole != "Finance" {
		t.Errorf("the new key authenticates as %+v, %v", a, err)
	}
	list := e.ok(t, 200, "GET", keys, provAdmin, "")["items"].([]any)
	if len(list) != 2 || list[1].(map[string]any)["id"] != id {
		t.Fatalf("keys after create = %v", list)
	}
	for _, it := range list {
		if _, ok := it.(map[string]any)["secret"]; ok {
			t.Errorf("listed key shows its secret: %v", it)
		}
	}
	if rsp := e.do(t, e.req("DELETE", keys+"/"+id, aAdmin, "")); rsp.Status != http.StatusNoContent || len(rsp.Body) != 0 {
		t.Fatalf("DELETE = %d %s", rsp.Status, rsp.Body)
	}
	if _, err := e.deps.Reseller.Authenticate(ctx, secret, ""); !errs.Is(err, errs.KindUnauthenticated) {
		t.Errorf("a revoked key authenticates: %v", err)
	}
	if k := e.ok(t, 201, "POST", keys, provAdmin, `{"role":"User"}`); k["name"] != "User" || k["role"] != "User" {
		t.Errorf("key created without a name = %v", k)
	}
	revoked := e.ok(t, 200, "GET", keys, aAdmin, "")["items"].([]any)[1].(map[string]any)
	if revoked["revokedAt"] == nil {
		t.Errorf("revoked key = %v", revoked)
	}
	e.ok(t, 204, "DELETE", keys+"/"+id, aAdmin, "") // revoking twice is no error
	if again := e.ok(t, 200, "GET", keys, aAdmin, "")["items"].([]any)[1].(map[string]any); again["revokedAt"] != revoked["revokedAt"] {
		t.Errorf("revoking twice changed the key: %v, then %v", revoked, again)
	}

	// Settings: defaults, then an operator's change, which moves the
	// partner org's time zone too.
	settings := "/partners/" + e.partnerA + "/reseller-settings"
	s := e.ok(t, 200, "GET", settings, aViewer, "")
	if s["partnerId"] != e.partnerA || s["timeZone"] != "Europe/Berlin" || s["currency"] != "RUB" || len(s["features"].([]any)) != 0 {
		t.Errorf("default settings = %v", s)
	}
	u := e.ok(t, 200, "PATCH", settings, aAdmin, `{"timeZone":"Asia/Omsk","features":["SimpleOneSupport","SimpleOneSupport"],"currency":"KZT"}`)
	if u["timeZone"] != "Asia/Omsk" || u["currency"] != "KZT" || fmt.Sprint(u["features"]) != "[SimpleOneSupport]" {
		t.Errorf("updated settings = %v", u)
	}
	if got := e.ok(t, 200, "GET", settings, aViewer, ""); fmt.Sprint(got) != fmt.Sprint(u) {
		t.Errorf("read back %v, updated %v", got, u)
	}
	if o := e.ok(t, 200, "GET", "/orgs/"+e.partnerA, aViewer, ""); o["timeZone"] != "Asia/Omsk" {
		t.Errorf("partner org after the settings change = %v", o)
	}
	if err := e.deps.Reseller.RequireFeature(ctx, e.partnerActor(t, e.partnerA, reseller.RoleUser), reseller.FeatureSimpleOneSupport); err != nil {
		t.Errorf("the feature is not on: %v", err)
	}
	if u := e.ok(t, 200, "PATCH", settings, provAdmin, `{"features":[]}`); len(u["features"].([]any)) != 0 || u["currency"] != "KZT" {
		t.Errorf("features cleared = %v", u)
	}

	// Activation by an operator, without the e-mailed token; twice is no
	// error.
	act := e.ok(t, 200, "POST", "/reseller/accounts/"+r.acctA2+"/activate", aStaff, `{}`)
	if act["id"] != r.acctA2 || act["state"] != "Active" || act["activatedAt"] == nil || act["partnerId"] != e.partnerA {
		t.Errorf("activated account = %v", act)
	}
	if again := e.ok(t, 200, "POST", "/reseller/accounts/"+r.acctA2+"/activate", aStaff, `{"token":"stale"}`); again["activatedAt"] != act["activatedAt"] {
		t.Errorf("activating twice = %v", again)
	}

	// Sharing A's project with the second account, and back.
	members := "/reseller/projects/" + itoa(r.projA) + "/members/" + r.acctA2
	p := e.ok(t, 200, "PUT", members, aStaff, "")
	if p["id"] != float64(r.projA) || p["ownerAccountId"] != r.acctA || fmt.Sprint(p["members"]) != fmt.Sprint([]string{r.acctA, r.acctA2}) ||
		p["balanceMinor"] == 0.0 || p["blocked"] != false {
		t.Errorf("shared project = %v", p)
	}
	if got, err := e.deps.Reseller.GetProject(ctx, actor.System(""), r.projA); err != nil || !slices.Equal(got.Members, []string{r.acctA, r.acctA2}) {
		t.Errorf("read back members %v, %v", got.Members, err)
	}
	p = e.ok(t, 200, "DELETE", members, aStaff, "")
	if fmt.Sprint(p["members"]) != fmt.Sprint([]string{r.acctA}) {
		t.Errorf("unshared project = %v", p)
	}
	if got, _ := e.deps.Reseller.GetProject(ctx, actor.System(""), r.projA); !slices.Equal(got.Members, []string{r.acctA}) {
		t.Errorf("read back members %v", got.Members)
	}

	// Catalogs: the kinds, a document, and its replacement, which does not
	// reprice the existing orders.
	kinds := e.ok(t, 200, "GET", "/reseller/catalogs", aViewer, "")["kinds"].([]any)
	if len(kinds) != len(orders.CatalogKinds()) || !slices.Contains(kinds, any(orders.CatalogVStack)) {
		t.Errorf("catalog kinds = %v", kinds)
	}
	vs := e.ok(t, 200, "GET", "/reseller/catalogs/"+orders.CatalogVStack, aViewer, "")
	loc := vs["Locations"].([]any)[0].(map[string]any)
	if loc["Id"] != 1.0 || loc["Prices"].(map[string]any)["CpuCorePerMonth"] != 450.0 {
		t.Errorf("vStack catalog = %v", loc)
	}
	dearer := strings.Replace(e.catalog(orders.CatalogVStack), `"CpuCorePerMonth":450.00`, `"CpuCorePerMonth":500.25`, 1)
	put := e.ok(t, 200, "PUT", "/reseller/catalogs/"+orders.CatalogVStack, provAdmin, dearer)
	if put["Locations"].([]any)[0].(map[string]any)["Prices"].(map[string]any)["CpuCorePerMonth"] != 500.25 {
		t.Errorf("replaced catalog = %v", put)
	}
	if got := e.ok(t, 200, "GET", "/reseller/catalogs/"+orders.CatalogVStack, aViewer, ""); fmt.Sprint(got) != fmt.Sprint(put) {
		t.Errorf("read back %v, put %v", got, put)
	}
	// Only the provider sets prices: a distributor's admin may not.
	e.ok(t, 403, "PUT", "/reseller/catalogs/"+orders.CatalogSSL, aAdmin, e.catalog(orders.CatalogSSL))

	// Orders: the project's three, then one deleted, which stops its
	// charges and leaves the list.
	orderList := func() map[float64]map[string]any {
		out := map[float64]map[string]any{}
		for _, it := range e.ok(t, 200, "GET", "/reseller/projects/"+itoa(r.projA)+"/orders", aViewer, "")["items"].([]any) {
			o := it.(map[string]any)
			out[o["id"].(float64)] = o
		}
		return out
	}
	os := orderList()
	o := os[float64(r.orderA)]
	if len(os) != 3 || o["kind"] != orders.KindVStackServer || o["projectId"] != float64(r.projA) || o["state"] != orders.StateActive ||
		o["monthlyPrice"] != "4705" || o["dailyPriceMinor"] != 15683.0 || o["currency"] != "RUB" || o["name"] != "Example" ||
		o["spec"].(map[string]any)["Cpu"] != 4.0 || o["deletedAt"] != nil {
		t.Errorf("orders = %v", os)
	}
	if empty := e.ok(t, 200, "GET", "/reseller/projects/"+itoa(r.projB)+"/orders", bAdmin, "")["items"].([]any); len(empty) != 1 {
		t.Errorf("B's orders = %v", empty)
	}
	d := e.ok(t, 200, "DELETE", "/reseller/orders/"+itoa(r.orderA), aStaff, "")
	if d["id"] != float64(r.orderA) || d["state"] != orders.StateDeleted || d["deletedAt"] == nil {
		t.Errorf("deleted order = %v", d)
	}
	if got := orderList(); len(got) != 2 || got[float64(r.orderA)] != nil {
		t.Errorf("orders after the delete = %v", got)
	}
	if again := e.ok(t, 200, "DELETE", "/reseller/orders/"+itoa(r.orderA), aStaff, ""); fmt.Sprint(again) != fmt.Sprint(d) {
		t.Errorf("deleting twice = %v, first %v", again, d)
	}
	if n, err := e.deps.Orders.ActiveServices(ctx, r.projA); err != nil || n != 2 {
		t.Errorf("active services after the delete = %d, %v", n, err)
	}

	// Tickets: a system ticket about the project, a message, closed, and
	// reopened by the next message.
	tk := e.ok(t, 201, "POST", "/partners/"+e.partnerA+"/tickets", aStaff,
		`{"kind":"system","projectId":`+itoa(r.projA)+`,"accountId":"`+r.acctA+`","subject":"Disk full","author":"monitor","body":"95% used"}`)
	tid := int64(tk["id"].(float64))
	msgs := tk["messages"].([]any)
	if tk["kind"] != "system" || tk["partnerId"] != e.partnerA || tk["projectId"] != float64(r.projA) || tk["accountId"] != r.acctA ||
		tk["subject"] != "Disk full" || tk["state"] != support.StateOpen || len(msgs) != 1 ||
		msgs[0].(map[string]any)["author"] != "monitor" || msgs[0].(map[string]any)["body"] != "95% used" {
		t.Errorf("created ticket = %v", tk)
	}
	if n, err := e.deps.Support.OpenTickets(ctx, r.projA); err != nil || n != 2 {
		t.Errorf("open tickets = %d, %v", n, err)
	}
	e.clock.Advance(1)
	m := e.ok(t, 201, "POST", "/tickets/"+itoa(tid)+"/messages", provStaff, `{"body":"Cleaned up."}`)
	if msgs := m["messages"].([]any); len(msgs) != 2 || msgs[1].(map[string]any)["author"] != e.keyIDs[provStaff] ||
		msgs[1].(map[string]any)["body"] != "Cleaned up." {
		t.Errorf("ticket after a message = %v", m)
	}
	c := e.ok(t, 200, "PATCH", "/tickets/"+itoa(tid), aStaff, `{"state":"Closed"}`)
	if c["state"] != support.StateClosed || c["closedAt"] == nil {
		t.Errorf("closed ticket = %v", c)
	}
	if got, err := e.deps.Support.GetTicket(ctx, actor.System(""), support.KindSystem, tid); err != nil || got.State != support.StateClosed {
		t.Errorf("read back %+v, %v", got, err)
	}
	if n, _ := e.deps.Support.OpenTickets(ctx, r.projA); n != 1 {
		t.Errorf("open tickets after closing = %d", n)
	}
	reopened := e.ok(t, 201, "POST", "/tickets/"+itoa(tid)+"/messages", aStaff, `{"author":"owner","body":"Again."}`)
	if reopened["state"] != support.StateOpen || reopened["closedAt"] != nil || len(reopened["messages"].([]any)) != 3 {
		t.Errorf("ticket after a message on it closed = %v", reopened)
	}

	// Reviews, by the provider's staff, handed out by the Partner API.
	rv := e.ok(t, 201, "POST", "/reviews", provStaff, `{"author":"Ann","text":"Fast servers.","rating":5}`)
	if rv["author"] != "Ann" || rv["text"] != "Fast servers." || rv["rating"] != 5.0 {
		t.Errorf("review = %v", rv)
	}
	if all, err := e.deps.Support.Reviews(ctx, 100); err != nil || len(all) != 1 || all[0].ID != int64(rv["id"].(float64)) {
		t.Errorf("reviews = %+v, %v", all, err)
	}
}
