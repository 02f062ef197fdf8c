package itglobal

// routes is THE route table: every operation of the seed with its method,
// path (below Prefix), the key roles and partner feature it needs, and
// whether the seed shows the path (inferred = it does not; inventory
// §2.1). A path is corrected here and in openapi.json only; a test keeps
// the two equal.
func (s *server) routes() []route {
	user, finance, both := []string{RoleUser}, []string{RoleFinance}, []string{RoleUser, RoleFinance}
	const so = FeatureSimpleOneSupport
	return []route{
		// Accounts
		{"IT-1", "GET", "/accounts", user, "", false, "List accounts", s.listAccounts},
		{"IT-2", "POST", "/accounts", user, "", true, "Create account", s.createAccount},
		{"IT-3", "POST", "/accounts/simpleone", user, "", true, "Create SimpleOne (deprecated)", s.createSimpleOneLegacy},
		{"IT-4", "GET", "/accounts/{id}", user, "", true, "Get account", s.getAccount},
		{"IT-5", "DELETE", "/accounts/{id}", user, "", true, "Delete account", s.deleteAccount},
		// Projects and companies
		{"IT-6", "GET", "/projects", user, "", true, "List projects", s.listProjects},
		{"IT-7", "GET", "/projects/{id}", user, "", true, "Get project", s.getProject},
		{"IT-8", "PUT", "/projects/{id}", user, "", true, "Edit project", s.editProject},
		{"IT-9", "GET", "/projects/{id}/companies", user, "", true, "Get companies", s.listCompanies},
		{"IT-10", "POST", "/projects/{id}/companies", user, "", true, "Create company", s.createCompany},
		{"IT-11", "GET", "/projects/{id}/companies/{company_id}", user, "", true, "Get company", s.getCompany},
		{"IT-12", "PUT", "/projects/{id}/companies/{company_id}", user, "", true, "Edit company", s.editCompany},
		{"IT-13", "POST", "/projects/{id}/companies/{company_id}/deactivate", user, "", true, "Deactivate company", s.deactivateCompany},
		// Invoices
		{"IT-14", "GET", "/projects/{id}/companies/{company_id}/invoices", both, "", true, "List invoices", s.listInvoices},
		{"IT-15", "POST", "/projects/{id}/companies/{company_id}/invoices", both, "", true, "Create invoice", s.createInvoice},
		{"IT-16", "GET", "/projects/{id}/companies/{company_id}/invoices/{invoice_number}", both, "", true, "Get invoice", s.getInvoice},
		// SimpleOne Users
		{"IT-17", "GET", "/simpleone/accounts", user, so, true, "List SimpleOne accounts", s.listSimpleOne},
		{"IT-18", "POST", "/simpleone/accounts", user, so, true, "Create SimpleOne account", s.createSimpleOne},
		{"IT-19", "GET", "/simpleone/accounts/{accountId}", user, so, true, "Get SimpleOne account", s.getSimpleOne},
		{"IT-20", "DELETE", "/simpleone/accounts/{accountId}", user, so, true, "Delete SimpleOne account", s.deleteSimpleOne},
		{"IT-21", "DELETE", "/simpleone/accounts/by-user", user, so, true, "Delete SimpleOne account by user", s.deleteSimpleOneByUser},
		{"IT-22", "PUT", "/simpleone/projects/{projectId}/company", user, so, true, "Change SimpleOne company", s.changeSimpleOneCompany},
		// 1C
		{"IT-23", "GET", "/1c/configurations", user, "", true, "1C configurations", s.catalog(catalog1CConfigurations)},
		{"IT-24", "GET", "/1c/tariffs", user, "", true, "1C tariffs", s.catalog(catalog1CTariffs)},
		{"IT-25", "POST", "/projects/{id}/1c", user, "", true, "Create 1C order", s.create1C},
		// IaaS
		{"IT-26", "GET", "/iaas/locations", user, "", true, "IaaS locations", s.listIaaSLocations},
		{"IT-27", "GET", "/iaas/locations/{location_id}", user, "", true, "IaaS location", s.getIaaSLocation},
		{"IT-28", "POST", "/projects/{id}/iaas/locations/{location_id}/servers", user, "", true, "Create VMware server", s.createVMwareServer},
		// Payments
		{"IT-29", "GET", "/payments", finance, "", true, "List payments", s.listPayments},
		{"IT-30", "POST", "/payments/bank", finance, "", true, "Create bank payment", s.bankPayment},
		{"IT-31", "POST", "/payments/online", finance, "", true, "Create online payment", s.onlinePayment},
		// Operations
		{"IT-32", "GET", "/operations/projects", finance, "", false, "List of all operations", s.report},
		{"IT-33", "GET", "/operations/projects/{id}", finance, "", false, "List of project operations", s.projectReport},
		{"IT-34", "POST", "/operations/projects/{id}", finance, "", true, "Create operation", s.createOperation},
		{"IT-35", "GET", "/operations/projects/by-day", finance, "", false, "List of all operations by day", s.reportByDay},
		{"IT-36", "GET", "/operations/projects/{id}/by-day", finance, "", false, "List of project operations by day", s.projectReportByDay},
		// vStack
		{"IT-37", "GET", "/vstack/prices", user, "", true, "vStack prices", s.vstackPrices},
		{"IT-38", "POST", "/projects/{id}/vstack/locations/{location_id}/servers", user, "", true, "Create vStack server", s.createVStackServer},
		// Managed, object storage
		{"IT-39", "GET", "/managed/tariffs", user, "", true, "Managed tariffs", s.catalog(catalogManagedTariffs)},
		{"IT-40", "GET", "/object-storage/tariffs", user, "", true, "Object storage tariffs", s.catalog(catalogObjectStorage)},
		// SSL
		{"IT-41", "GET", "/ssl-products", user, "", true, "SSL products", s.listSSLProducts},
		{"IT-42", "GET", "/ssl-products/{product_id}", user, "", true, "SSL product", s.getSSLProduct},
		// Kubernetes
		{"IT-43", "GET", "/kubernetes/tariffs", user, "", true, "Kubernetes tariffs", s.catalog(catalogKubernetesTariffs)},
		{"IT-44", "POST", "/projects/{id}/kubernetes", user, "", true, "Create Kubernetes cluster", s.createKubernetes},
		// Reviews, CDN
		{"IT-45", "GET", "/reviews/{count}", user, "", true, "Get reviews", s.reviews},
		{"IT-46", "GET", "/cdn/tariffs", user, "", true, "CDN tariffs", s.catalog(catalogCDNTariffs)},
		// Cloud Director
		{"IT-47", "GET", "/cloud-director/vorgs/{id}", user, "", true, "Get VOrg", s.getVOrg},
		{"IT-48", "POST", "/cloud-director/vorgs", user, "", true, "Create VOrg", s.createVOrg},
		{"IT-49", "GET", "/cloud-director/vdcs/{id}", user, "", true, "Get VDC", s.getVDC},
		{"IT-50", "POST", "/cloud-director/vdcs", user, "", true, "Create VDC", s.createVDC},
		// Support
		{"IT-51", "GET", "/support/client/tickets", user, "", false, "List client tickets", s.listTickets(ticketClient)},
		{"IT-52", "GET", "/support/client/tickets/{id}", user, "", true, "Get client ticket", s.getTicket(ticketClient)},
		{"IT-53", "GET", "/support/system/tickets", user, "", false, "List system tickets", s.listTickets(ticketSystem)},
		{"IT-54", "GET", "/support/system/tickets/{id}", user, "", true, "Get system ticket", s.getTicket(ticketSystem)},
	}
}
