package idcloudhost

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/decode"
	"github.com/trellis-cloud/trellis/internal/network"
)

// Network is what the dialect needs of the network service (private
// networks, floating IPs, load balancers; implemented by network.Service).
// Every call names the request's location (ID-amb-1).
type Network interface {
	GetNetwork(ctx context.Context, a actor.Actor, location, uuid string) (network.Network, error)
	ListNetworks(ctx context.Context, a actor.Actor, location string) ([]network.Network, error)
	CreateNetwork(ctx context.Context, a actor.Actor, location string, name *string) (network.Network, error)
	DeleteNetwork(ctx context.Context, a actor.Actor, location, uuid string) error
	SetDefaultNetwork(ctx context.Context, a actor.Actor, location, uuid string) (network.Network, error)
	RenameNetwork(ctx context.Context, a actor.Actor, location, uuid string, name *string) (network.Network, error)

	CreateFloatingIP(ctx context.Context, a actor.Actor, in network.CreateFloatingIP) (network.FloatingIP, error)
	ListFloatingIPs(ctx context.Context, a actor.Actor, location string, f network.FloatingIPFilter) ([]network.FloatingIP, error)
	GetFloatingIP(ctx context.Context, a actor.Actor, location, address string) (network.FloatingIP, error)
	UpdateFloatingIP(ctx context.Context, a actor.Actor, location, address string, in network.UpdateFloatingIP) (network.FloatingIP, error)
	DeleteFloatingIP(ctx context.Context, a actor.Actor, location, address string) error
	AssignFloatingIP(ctx context.Context, a actor.Actor, location, address, vmUUID string) (network.FloatingIP, error)
	UnassignFloatingIP(ctx context.Context, a actor.Actor, location, address string) (network.FloatingIP, error)

	ListLBs(ctx context.Context, a actor.Actor, location string) ([]network.LoadBalancer, error)
	GetLB(ctx context.Context, a actor.Actor, location, uuid string) (network.LoadBalancer, error)
	CreateLB(ctx context.Context, a actor.Actor, in network.CreateLB) (network.LoadBalancer, error)
	RenameLB(ctx context.Context, a actor.Actor, location, uuid string, name *string) (network.LoadBalancer, error)
	DeleteLB(ctx context.Context, a actor.Actor, location, uuid string) error
	AddLBTarget(ctx context.Context, a actor.Actor, location, uuid string, in network.TargetInput) (network.Target, error)
	RemoveLBTarget(ctx context.Context, a actor.Actor, location, uuid, targetUUID string) error
	AddLBRule(ctx context.Context, a actor.Actor, location, uuid string, in network.RuleInput) (network.Rule, error)
	RemoveLBRule(ctx context.Context, a actor.Actor, location, uuid, ruleUUID string) error
	SetLBBillingAccount(ctx context.Context, a actor.Actor, location, uuid string, accountID int64) (network.LoadBalancer, error)
}

var _ Network = (*network.Service)(nil)

// ---- wire types ----

// netTime is the compute/network timestamp format.
func netTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") }

type networkJSON struct {
	VLANID         int64    `json:"vlan_id"`
	Subnet         string   `json:"subnet"`
	SubnetIPv6     string   `json:"subnet_ipv6"`
	Name           string   `json:"name"`
	CreatedAt      string   `json:"created_at"`
	UpdatedAt      string   `json:"updated_at"`
	UUID           string   `json:"uuid"`
	Type           string   `json:"type"`
	IsDefault      bool     `json:"is_default"`
	VMUUIDs        []string `json:"vm_uuids"`
	ResourcesCount int      `json:"resources_count"`
}

func networkOut(n network.Network) networkJSON {
	vms := n.VMUUIDs
	if vms == nil {
		vms = []string{}
	}
	return networkJSON{VLANID: n.VLANID, Subnet: n.Subnet, SubnetIPv6: n.SubnetIPv6, Name: n.Name, CreatedAt: netTime(n.CreatedAt),
		UpdatedAt: netTime(n.UpdatedAt), UUID: n.UUID, Type: "private", IsDefault: n.IsDefault, VMUUIDs: vms,
		ResourcesCount: n.ResourcesCount()}
}

// floatingIPJSON is the FloatingIP object: always the superset of the
// samples (ID-amb-23, ID-amb-33): uuid, assigned_to,
// assigned_to_resource_type and assigned_to_private_ip (null when
// unassigned); unassigned_at once set.
type floatingIPJSON struct {
	ID                     int64   `json:"id"`
	Address                string  `json:"address"`
	UserID                 int64   `json:"user_id"`
	BillingAccountID       int64   `json:"billing_account_id"`
	Type                   string  `json:"type"`
	NetworkID              *int64  `json:"network_id"`
	Name                   string  `json:"name"`
	Enabled                bool    `json:"enabled"`
	CreatedAt              string  `json:"created_at"`
	UpdatedAt              string  `json:"updated_at"`
	IsDeleted              bool    `json:"is_deleted"`
	IsVirtual              bool    `json:"is_virtual"`
	UnassignedAt           *string `json:"unassigned_at,omitempty"`
	UUID                   string  `json:"uuid"`
	AssignedTo             *string `json:"assigned_to"`
	AssignedToResourceType *string `json:"assigned_to_resource_type"`
	AssignedToPrivateIP    *string `json:"assigned_to_private_ip"`
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func floatingIPOut(f network.FloatingIP) floatingIPJSON {
	out := floatingIPJSON{ID: f.ID, Address: f.Address, UserID: f.UserID, BillingAccountID: f.BillingAccountID, Type: "public",
		Name: f.Name, Enabled: f.Enabled, CreatedAt: netTime(f.CreatedAt), UpdatedAt: netTime(f.UpdatedAt),
		IsVirtual: f.IsVirtual, UUID: f.UUID, AssignedTo: strPtr(f.AssignedTo), AssignedToResourceType: strPtr(f.AssignedType),
		AssignedToPrivateIP: strPtr(f.AssignedPrivateIP)}
	if f.UnassignedAt != nil {
		s := netTime(*f.UnassignedAt)
		out.UnassignedAt = &s
	}
	return out
}

type ruleSettingsJSON struct {
	ConnectionLimit    int64  `json:"connection_limit"`
	SessionPersistence string `json:"session_persistence"`
}

type ruleJSON struct {
	UUID       string           `json:"uuid"`
	Protocol   string           `json:"protocol"`
	CreatedAt  string           `json:"created_at"`
	SourcePort int64            `json:"source_port"`
	TargetPort int64            `json:"target_port"`
	Settings   ruleSettingsJSON `json:"settings"`
}

func ruleOut(r network.Rule) ruleJSON {
	return ruleJSON{UUID: r.UUID, Protocol: r.Protocol, CreatedAt: netTime(r.CreatedAt), SourcePort: r.SourcePort,
		TargetPort: r.TargetPort, Settings: ruleSettingsJSON{ConnectionLimit: r.ConnectionLimit, SessionPersistence: r.SessionPersistence}}
}

type targetJSON struct {
	CreatedAt       string `json:"created_at"`
	TargetUUID      string `json:"target_uuid"`
	TargetType      string `json:"target_type"`
	TargetIPAddress string `json:"target_ip_address"`
}

func targetOut(t network.Target) targetJSON {
	return targetJSON{CreatedAt: netTime(t.CreatedAt), TargetUUID: t.TargetUUID, TargetType: t.TargetType, TargetIPAddress: t.IPAddress}
}

// lbJSON is the LoadBalancer object, display_name always included
// (ID-amb-22).
type lbJSON struct {
	UUID             string       `json:"uuid"`
	DisplayName      string       `json:"display_name"`
	NetworkUUID      string       `json:"network_uuid"`
	UserID           int64        `json:"user_id"`
	BillingAccountID int64        `json:"billing_account_id"`
	CreatedAt        string       `json:"created_at"`
	UpdatedAt        string       `json:"updated_at"`
	IsDeleted        bool         `json:"is_deleted"`
	PrivateAddress   string       `json:"private_address"`
	ForwardingRules  []ruleJSON   `json:"forwarding_rules"`
	Targets          []targetJSON `json:"targets"`
}

func lbOut(lb network.LoadBalancer) lbJSON {
	out := lbJSON{UUID: lb.UUID, DisplayName: lb.DisplayName, NetworkUUID: lb.NetworkUUID, UserID: lb.UserID,
		BillingAccountID: lb.BillingAccountID, CreatedAt: netTime(lb.CreatedAt), UpdatedAt: netTime(lb.UpdatedAt),
		PrivateAddress: lb.PrivateAddress, ForwardingRules: []ruleJSON{}, Targets: []targetJSON{}}
	for _, r := range lb.Rules {
		out.ForwardingRules = append(out.ForwardingRules, ruleOut(r))
	}
	for _, t := range lb.Targets {
		out.Targets = append(out.Targets, targetOut(t))
	}
	return out
}

// ---- routes ----

func (s *server) networkOps() []op {
	const (
		net   = "/network/network/{network_uuid}"
		ips   = "/network/ip_addresses"
		ip    = "/network/ip_addresses/{public_ipv4_address}"
		lbs   = "/network/load_balancers"
		lb    = "/network/load_balancers/{lb_uuid}"
		netP  = "network_uuid"
		ipP   = "public_ipv4_address"
		lbP   = "lb_uuid"
		tgtP  = "target_uuid"
		ruleP = "rule_uuid"
	)
	return []op{
		{method: http.MethodGet, path: net, located: true, pathParams: []string{netP}, h: s.getNetwork},
		{method: http.MethodGet, path: "/network/networks", located: true, h: s.listNetworks},
		{method: http.MethodPost, path: "/network/network", located: true, h: s.createNetwork},
		{method: http.MethodDelete, path: net, located: true, pathParams: []string{netP}, h: s.deleteNetwork},
		{method: http.MethodPut, path: net + "/default", located: true, pathParams: []string{netP}, h: s.setDefaultNetwork},
		{method: http.MethodPatch, path: net, located: true, pathParams: []string{netP}, h: s.renameNetwork},

		{method: http.MethodPost, path: ips, located: true, h: s.createFloatingIP},
		// The HTTP Request line has a trailing slash (ID-amb-3).
		{method: http.MethodPost, path: ips + "/{$}", located: true, h: s.createFloatingIP},
		{method: http.MethodGet, path: ips, located: true, h: s.listFloatingIPs},
		{method: http.MethodGet, path: ip, located: true, pathParams: []string{ipP}, h: s.getFloatingIP},
		{method: http.MethodPatch, path: ip, located: true, pathParams: []string{ipP}, h: s.updateFloatingIP},
		{method: http.MethodDelete, path: ip, located: true, pathParams: []string{ipP}, h: s.deleteFloatingIP},
		// The seed's curl example of the delete uses this URL (ID-amb-3).
		{method: http.MethodDelete, path: "/ip_addresses/{public_ipv4_address}", located: true, pathParams: []string{ipP}, h: s.deleteFloatingIP},
		{method: http.MethodPost, path: ip + "/assign", located: true, pathParams: []string{ipP}, h: s.assignFloatingIP},
		{method: http.MethodPost, path: ip + "/unassign", located: true, pathParams: []string{ipP}, h: s.unassignFloatingIP},

		{method: http.MethodGet, path: lbs, located: true, h: s.listLoadBalancers},
		{method: http.MethodPost, path: lbs, located: true, h: s.createLoadBalancer},
		{method: http.MethodGet, path: lb, located: true, pathParams: []string{lbP}, h: s.getLoadBalancer},
		{method: http.MethodPatch, path: lb, located: true, pathParams: []string{lbP}, h: s.renameLoadBalancer},
		{method: http.MethodDelete, path: lb, located: true, pathParams: []string{lbP}, h: s.deleteLoadBalancer},
		{method: http.MethodPost, path: lb + "/targets", located: true, pathParams: []string{lbP}, h: s.addLoadBalancerTarget},
		{method: http.MethodDelete, path: lb + "/targets/{target_uuid}", located: true, pathParams: []string{lbP, tgtP}, h: s.removeLoadBalancerTarget},
		{method: http.MethodPost, path: lb + "/forwarding_rules", located: true, pathParams: []string{lbP}, h: s.addForwardingRule},
		{method: http.MethodDelete, path: lb + "/forwarding_rules/{rule_uuid}", located: true, pathParams: []string{lbP, ruleP}, h: s.removeForwardingRule},
		{method: http.MethodPut, path: lb + "/billing_account", located: true, pathParams: []string{lbP}, h: s.setLoadBalancerBillingAccount},
	}
}

// ---- networks (ID-47..52) ----

// ID-47.
func (s *server) getNetwork(ctx context.Context, c *call) (any, error) {
	n, err := s.d.Network.GetNetwork(ctx, c.a, c.location.Slug, c.path("network_uuid"))
	if err != nil {
		return nil, err
	}
	return networkOut(n), nil
}

// ID-48.
func (s *server) listNetworks(ctx context.Context, c *call) (any, error) {
	list, err := s.d.Network.ListNetworks(ctx, c.a, c.location.Slug)
	if err != nil {
		return nil, err
	}
	out := make([]networkJSON, len(list))
	for i, n := range list {
		out[i] = networkOut(n)
	}
	return out, nil
}

// nameParam is an optional name (nil when absent).
type nameParam struct {
	Name *string `wire:"name"`
}

// ID-49: name in the query (or the body); absent or empty = the default
// network.
func (s *server) createNetwork(ctx context.Context, c *call) (any, error) {
	var req nameParam
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	name := req.Name
	if name != nil && strings.TrimSpace(*name) == "" {
		name = nil
	}
	n, err := s.d.Network.CreateNetwork(ctx, c.a, c.location.Slug, name)
	if err != nil {
		return nil, err
	}
	return networkOut(n), nil
}

// ID-50: 200 with an empty body (ID-amb-21).
func (s *server) deleteNetwork(ctx context.Context, c *call) (any, error) {
	if err := s.d.Network.DeleteNetwork(ctx, c.a, c.location.Slug, c.path("network_uuid")); err != nil {
		return nil, err
	}
	return emptyOK{}, nil
}

// ID-51.
func (s *server) setDefaultNetwork(ctx context.Context, c *call) (any, error) {
	n, err := s.d.Network.SetDefaultNetwork(ctx, c.a, c.location.Slug, c.path("network_uuid"))
	if err != nil {
		return nil, err
	}
	return networkOut(n), nil
}

// ID-52.
func (s *server) renameNetwork(ctx context.Context, c *call) (any, error) {
	var req nameParam
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	n, err := s.d.Network.RenameNetwork(ctx, c.a, c.location.Slug, c.path("network_uuid"), req.Name)
	if err != nil {
		return nil, err
	}
	return networkOut(n), nil
}

// ---- floating IPs (ID-53..59) ----

// ID-53.
func (s *server) createFloatingIP(ctx context.Context, c *call) (any, error) {
	var req struct {
		accountParam
		Name string `wire:"name"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	f, err := s.d.Network.CreateFloatingIP(ctx, c.a, network.CreateFloatingIP{Location: c.location.Slug,
		BillingAccountID: req.BillingAccountID, Name: req.Name})
	if err != nil {
		return nil, err
	}
	return floatingIPOut(f), nil
}

// ID-54.
func (s *server) listFloatingIPs(ctx context.Context, c *call) (any, error) {
	var req struct {
		accountParam
		VMUUID string `wire:"vm_uuid"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	list, err := s.d.Network.ListFloatingIPs(ctx, c.a, c.location.Slug,
		network.FloatingIPFilter{BillingAccountID: req.BillingAccountID, VMUUID: req.VMUUID})
	if err != nil {
		return nil, err
	}
	out := make([]floatingIPJSON, len(list))
	for i, f := range list {
		out[i] = floatingIPOut(f)
	}
	return out, nil
}

// ID-55.
func (s *server) getFloatingIP(ctx context.Context, c *call) (any, error) {
	f, err := s.d.Network.GetFloatingIP(ctx, c.a, c.location.Slug, c.path("public_ipv4_address"))
	if err != nil {
		return nil, err
	}
	return floatingIPOut(f), nil
}

// ID-56.
func (s *server) updateFloatingIP(ctx context.Context, c *call) (any, error) {
	var req struct {
		BillingAccountID *int64  `wire:"billing_account_id"`
		Name             *string `wire:"name"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	f, err := s.d.Network.UpdateFloatingIP(ctx, c.a, c.location.Slug, c.path("public_ipv4_address"),
		network.UpdateFloatingIP{BillingAccountID: req.BillingAccountID, Name: req.Name})
	if err != nil {
		return nil, err
	}
	return floatingIPOut(f), nil
}

// ID-57: 200 with an empty body.
func (s *server) deleteFloatingIP(ctx context.Context, c *call) (any, error) {
	if err := s.d.Network.DeleteFloatingIP(ctx, c.a, c.location.Slug, c.path("public_ipv4_address")); err != nil {
		return nil, err
	}
	return emptyOK{}, nil
}

// ID-58.
func (s *server) assignFloatingIP(ctx context.Context, c *call) (any, error) {
	var req struct {
		VMUUID string `wire:"vm_uuid,nonempty"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	f, err := s.d.Network.AssignFloatingIP(ctx, c.a, c.location.Slug, c.path("public_ipv4_address"), req.VMUUID)
	if err != nil {
		return nil, err
	}
	return floatingIPOut(f), nil
}

// ID-59.
func (s *server) unassignFloatingIP(ctx context.Context, c *call) (any, error) {
	f, err := s.d.Network.UnassignFloatingIP(ctx, c.a, c.location.Slug, c.path("public_ipv4_address"))
	if err != nil {
		return nil, err
	}
	return floatingIPOut(f), nil
}

// ---- load balancers (ID-60..69) ----

// ID-60.
func (s *server) listLoadBalancers(ctx context.Context, c *call) (any, error) {
	list, err := s.d.Network.ListLBs(ctx, c.a, c.location.Slug)
	if err != nil {
		return nil, err
	}
	out := make([]lbJSON, len(list))
	for i, lb := range list {
		out[i] = lbOut(lb)
	}
	return out, nil
}

// ID-61.
func (s *server) getLoadBalancer(ctx context.Context, c *call) (any, error) {
	lb, err := s.d.Network.GetLB(ctx, c.a, c.location.Slug, c.path("lb_uuid"))
	if err != nil {
		return nil, err
	}
	return lbOut(lb), nil
}

// portNumber is a port given as a JSON number or a string (the seed types
// it "string" and sends integers).
type portNumber struct {
	n   int64
	set bool
}

func (p *portNumber) UnmarshalJSON(b []byte) error {
	var n json.Number
	s := strings.Trim(string(b), `"`)
	n = json.Number(s)
	v, err := n.Int64()
	if err != nil {
		return err
	}
	p.n, p.set = v, true
	return nil
}

// lbRules is the rules parameter of a new load balancer (a JSON-typed
// parameter, see jsonParam).
type lbRules []network.RuleInput

// DecodeWire implements decode.Unmarshaler.
func (r *lbRules) DecodeWire(field string, v decode.Value) error {
	var rules []struct {
		SourcePort portNumber `json:"source_port"`
		TargetPort portNumber `json:"target_port"`
	}
	if err := jsonParam(field, v, &rules, `a JSON array of {"source_port": <port>, "target_port": <port>}`); err != nil {
		return err
	}
	for _, x := range rules {
		if !x.SourcePort.set || !x.TargetPort.set {
			return errs.Invalid(field, "every rule needs source_port and target_port")
		}
		*r = append(*r, network.RuleInput{SourcePort: x.SourcePort.n, TargetPort: x.TargetPort.n})
	}
	return nil
}

// lbTargets is the targets parameter of a new load balancer (a JSON-typed
// parameter, see jsonParam).
type lbTargets []network.TargetInput

// DecodeWire implements decode.Unmarshaler.
func (t *lbTargets) DecodeWire(field string, v decode.Value) error {
	var targets []struct {
		TargetUUID string `json:"target_uuid"`
		TargetType string `json:"target_type"`
	}
	if err := jsonParam(field, v, &targets, `a JSON array of {"target_uuid": "<vm uuid>", "target_type": "vm"}`); err != nil {
		return err
	}
	for _, x := range targets {
		*t = append(*t, network.TargetInput{TargetUUID: x.TargetUUID, TargetType: x.TargetType})
	}
	return nil
}

// ID-62.
func (s *server) createLoadBalancer(ctx context.Context, c *call) (any, error) {
	var req struct {
		accountParam
		DisplayName     string    `wire:"display_name"`
		NetworkUUID     string    `wire:"network_uuid"`
		ReservePublicIP bool      `wire:"reserve_public_ip"`
		Rules           lbRules   `wire:"rules"`
		Targets         lbTargets `wire:"targets"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	lb, err := s.d.Network.CreateLB(ctx, c.a, network.CreateLB{Location: c.location.Slug,
		BillingAccountID: req.BillingAccountID, DisplayName: req.DisplayName, NetworkUUID: req.NetworkUUID,
		ReservePublicIP: req.ReservePublicIP, Rules: req.Rules, Targets: req.Targets})
	if err != nil {
		return nil, err
	}
	return lbOut(lb), nil
}

// ID-63.
func (s *server) renameLoadBalancer(ctx context.Context, c *call) (any, error) {
	var req struct {
		DisplayName *string `wire:"display_name"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	lb, err := s.d.Network.RenameLB(ctx, c.a, c.location.Slug, c.path("lb_uuid"), req.DisplayName)
	if err != nil {
		return nil, err
	}
	return lbOut(lb), nil
}

// ID-64: 200 with an empty body.
func (s *server) deleteLoadBalancer(ctx context.Context, c *call) (any, error) {
	if err := s.d.Network.DeleteLB(ctx, c.a, c.location.Slug, c.path("lb_uuid")); err != nil {
		return nil, err
	}
	return emptyOK{}, nil
}

// ID-65.
func (s *server) addLoadBalancerTarget(ctx context.Context, c *call) (any, error) {
	var req struct {
		TargetUUID string `wire:"target_uuid,nonempty"`
		TargetType string `wire:"target_type,nonempty"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	t, err := s.d.Network.AddLBTarget(ctx, c.a, c.location.Slug, c.path("lb_uuid"),
		network.TargetInput{TargetUUID: req.TargetUUID, TargetType: req.TargetType})
	if err != nil {
		return nil, err
	}
	return targetOut(t), nil
}

// ID-66: 200 with an empty body.
func (s *server) removeLoadBalancerTarget(ctx context.Context, c *call) (any, error) {
	if err := s.d.Network.RemoveLBTarget(ctx, c.a, c.location.Slug, c.path("lb_uuid"), c.path("target_uuid")); err != nil {
		return nil, err
	}
	return emptyOK{}, nil
}

// ID-67: the answer is the whole rule (ID-amb-22), a superset of the
// sample's two fields.
func (s *server) addForwardingRule(ctx context.Context, c *call) (any, error) {
	var req struct {
		SourcePort portParam `wire:"source_port,required"`
		TargetPort portParam `wire:"target_port,required"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	r, err := s.d.Network.AddLBRule(ctx, c.a, c.location.Slug, c.path("lb_uuid"),
		network.RuleInput{SourcePort: int64(req.SourcePort), TargetPort: int64(req.TargetPort)})
	if err != nil {
		return nil, err
	}
	return ruleOut(r), nil
}

// ID-68: 200 with an empty body; the rule is named by its uuid (ID-amb-22).
func (s *server) removeForwardingRule(ctx context.Context, c *call) (any, error) {
	if err := s.d.Network.RemoveLBRule(ctx, c.a, c.location.Slug, c.path("lb_uuid"), c.path("rule_uuid")); err != nil {
		return nil, err
	}
	return emptyOK{}, nil
}

// ID-69.
func (s *server) setLoadBalancerBillingAccount(ctx context.Context, c *call) (any, error) {
	var req struct {
		SetID int64 `wire:"set_id,required"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	lb, err := s.d.Network.SetLBBillingAccount(ctx, c.a, c.location.Slug, c.path("lb_uuid"), req.SetID)
	if err != nil {
		return nil, err
	}
	return lbOut(lb), nil
}
