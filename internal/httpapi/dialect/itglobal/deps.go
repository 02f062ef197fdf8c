package itglobal

import (
	"context"
	"encoding/json"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/orders"
	"github.com/trellis-cloud/trellis/internal/reseller"
	"github.com/trellis-cloud/trellis/internal/support"
)

// Authenticator checks a partner key (implemented by *reseller.Service).
type Authenticator interface {
	Authenticate(ctx context.Context, key, requestID string) (actor.Actor, error)
}

// Reseller is the reseller core as the dialect uses it (implemented by
// *reseller.Service).
type Reseller interface {
	RequireFeature(ctx context.Context, a actor.Actor, f string) error

	ListAccounts(ctx context.Context, a actor.Actor, f reseller.AccountFilter) ([]reseller.Account, error)
	CreateAccount(ctx context.Context, a actor.Actor, in reseller.CreateAccountInput) (reseller.Account, error)
	GetAccount(ctx context.Context, a actor.Actor, id string) (reseller.Account, error)
	DeleteAccount(ctx context.Context, a actor.Actor, id string) error
	CreateSimpleOneAccount(ctx context.Context, a actor.Actor, in reseller.CreateSimpleOneInput) (reseller.Account, error)
	GetSimpleOneAccount(ctx context.Context, a actor.Actor, id string) (reseller.Account, error)
	DeleteSimpleOneAccount(ctx context.Context, a actor.Actor, id string) error
	DeleteSimpleOneAccountByUser(ctx context.Context, a actor.Actor, userID string) error
	ChangeSimpleOneCompany(ctx context.Context, a actor.Actor, projectID int64, companyID string) (reseller.Project, error)

	ListProjects(ctx context.Context, a actor.Actor) ([]reseller.Project, error)
	GetProject(ctx context.Context, a actor.Actor, id int64) (reseller.Project, error)
	UpdateProject(ctx context.Context, a actor.Actor, id int64, in reseller.ProjectInput) (reseller.Project, error)

	ListCompanies(ctx context.Context, a actor.Actor, projectID int64) ([]reseller.Company, error)
	CreateCompany(ctx context.Context, a actor.Actor, projectID int64, in reseller.CompanyInput) (reseller.Company, error)
	GetCompany(ctx context.Context, a actor.Actor, projectID, companyID int64) (reseller.Company, error)
	UpdateCompany(ctx context.Context, a actor.Actor, projectID, companyID int64, in reseller.CompanyEditInput) (reseller.Company, error)
	DeactivateCompany(ctx context.Context, a actor.Actor, projectID, companyID int64) (reseller.Company, error)

	ListInvoices(ctx context.Context, a actor.Actor, projectID, companyID int64) ([]reseller.Invoice, error)
	CreateInvoice(ctx context.Context, a actor.Actor, projectID, companyID int64, amount int64) (reseller.Invoice, error)
	GetInvoice(ctx context.Context, a actor.Actor, projectID, companyID int64, number string) (reseller.Invoice, error)

	ListPayments(ctx context.Context, a actor.Actor) ([]reseller.Payment, error)
	BankPayment(ctx context.Context, a actor.Actor, in reseller.BankPaymentInput) (reseller.Payment, error)
	OnlinePayment(ctx context.Context, a actor.Actor, in reseller.OnlinePaymentInput) (reseller.Payment, error)

	CreateOperation(ctx context.Context, a actor.Actor, projectID int64, typ string, amount int64) (reseller.Operation, error)
	PeriodReport(ctx context.Context, a actor.Actor, projectID int64, from, to string) ([]reseller.ProjectPeriod, error)
	DailyReport(ctx context.Context, a actor.Actor, projectID int64, from, to string) (reseller.DayReport, error)
}

// Orders is the catalogs and orders service (implemented by
// *orders.Service).
type Orders interface {
	GetCatalog(ctx context.Context, kind string) (json.RawMessage, error)
	IaaSLocations(ctx context.Context) ([]orders.IaaSLocation, error)
	IaaSLocation(ctx context.Context, id string) (orders.IaaSLocation, error)
	SSLProducts(ctx context.Context) ([]orders.SSLProduct, error)
	SSLProduct(ctx context.Context, id int64) (orders.SSLProduct, error)
	VStackPrices(ctx context.Context) (orders.VStackCatalog, error)
	CreateVMwareServer(ctx context.Context, a actor.Actor, in orders.VMwareServerInput) (orders.Order, error)
	CreateVStackServer(ctx context.Context, a actor.Actor, in orders.VStackServerInput) (orders.Order, error)
	CreateKubernetesCluster(ctx context.Context, a actor.Actor, in orders.KubernetesInput) (orders.Order, error)
	Create1C(ctx context.Context, a actor.Actor, in orders.OneCInput) (orders.Order, error)
	CreateVOrg(ctx context.Context, a actor.Actor, in orders.VOrgInput) (orders.Order, error)
	CreateVDC(ctx context.Context, a actor.Actor, in orders.VDCInput) (orders.Order, error)
	GetVOrg(ctx context.Context, a actor.Actor, id int64) (orders.Order, error)
	GetVDC(ctx context.Context, a actor.Actor, id int64) (orders.Order, error)
}

// Support is tickets and reviews (implemented by *support.Service).
type Support interface {
	ListTicketsIn(ctx context.Context, a actor.Actor, kind string, p support.TicketPeriod) ([]support.Ticket, error)
	GetTicket(ctx context.Context, a actor.Actor, kind string, id int64) (support.Ticket, error)
	Reviews(ctx context.Context, count int) ([]support.Review, error)
}
