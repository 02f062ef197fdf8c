package idcloudhost

// networkOperations are this family's operations (see operations): the
// private network, floating IP and load balancer sections (ID-47 to
// ID-69), each also under /{location}/ (ID-amb-1), the twins validated with
// the sample of the global operation. The deletes answer 200 with an empty
// body (ID-amb-21): their samples are empty files.
var networkOperations = func() []operation {
	const (
		net = "/network/network/{network_uuid}"
		ip  = "/network/ip_addresses/{public_ipv4_address}"
		lb  = "/network/load_balancers/{lb_uuid}"
	)
	global := []operation{
		{"getNetwork", "GET", net, "ID-47", "getNetwork.json", 200},
		{"listNetworks", "GET", "/network/networks", "ID-48", "listNetworks.json", 200},
		{"createNetwork", "POST", "/network/network", "ID-49", "createNetwork.json", 200},
		{"deleteNetwork", "DELETE", net, "ID-50", "deleteNetwork.json", 200},
		{"setDefaultNetwork", "PUT", net + "/default", "ID-51", "setDefaultNetwork.json", 200},
		{"renameNetwork", "PATCH", net, "ID-52", "renameNetwork.json", 200},
		{"createFloatingIP", "POST", "/network/ip_addresses", "ID-53", "createFloatingIP.json", 200},
		{"listFloatingIPs", "GET", "/network/ip_addresses", "ID-54", "listFloatingIPs.json", 200},
		{"getFloatingIP", "GET", ip, "ID-55", "getFloatingIP.json", 200},
		{"updateFloatingIP", "PATCH", ip, "ID-56", "updateFloatingIP.json", 200},
		{"deleteFloatingIP", "DELETE", ip, "ID-57", "deleteFloatingIP.json", 200},
		{"assignFloatingIP", "POST", ip + "/assign", "ID-58", "assignFloatingIP.json", 200},
		{"unassignFloatingIP", "POST", ip + "/unassign", "ID-59", "unassignFloatingIP.json", 200},
		{"listLoadBalancers", "GET", "/network/load_balancers", "ID-60", "listLoadBalancers.json", 200},
		{"getLoadBalancer", "GET", lb, "ID-61", "getLoadBalancer.json", 200},
		{"createLoadBalancer", "POST", "/network/load_balancers", "ID-62", "createLoadBalancer.json", 200},
		{"renameLoadBalancer", "PATCH", lb, "ID-63", "renameLoadBalancer.json", 200},
		{"deleteLoadBalancer", "DELETE", lb, "ID-64", "deleteLoadBalancer.json", 200},
		{"addLoadBalancerTarget", "POST", lb + "/targets", "ID-65", "addLoadBalancerTarget.json", 200},
		{"removeLoadBalancerTarget", "DELETE", lb + "/targets/{target_uuid}", "ID-66", "removeLoadBalancerTarget.json", 200},
		{"addForwardingRule", "POST", lb + "/forwarding_rules", "ID-67", "addForwardingRule.json", 200},
		{"removeForwardingRule", "DELETE", lb + "/forwarding_rules/{rule_uuid}", "ID-68", "removeForwardingRule.json", 200},
		{"setLoadBalancerBillingAccount", "PUT", lb + "/billing_account", "ID-69", "setLoadBalancerBillingAccount.json", 200},
	}
	out := global
	for _, o := range global {
		o.id += "InLocation"
		o.path = "/{location}" + o.path
		out = append(out, o)
	}
	return out
}()

// networkOptionalInSample and networkFreeFormInSample are this family's
// entries of optionalInSample and freeFormInSample. The seed's floating IP
// samples each show another subset of the object Trellis always sends
// (ID-amb-23, ID-amb-33); the fields not in every sample are optional in
// the schema. The load balancer samples of list and get lack display_name
// (ID-amb-22).
var (
	networkOptionalInSample = func() map[string]map[string]string {
		const (
			flags  = "is_deleted and is_virtual are absent from the assign sample"
			assign = "the assignment details appear only in the samples of assigned addresses"
			unass  = "the unassign sample is the only one with unassigned_at and uuid (Trellis always sends uuid)"
			name   = "display_name is absent from the list and get samples (ID-amb-22)"
		)
		return map[string]map[string]string{
			"createFloatingIP.json":              {"is_deleted": flags, "is_virtual": flags},
			"updateFloatingIP.json":              {"is_deleted": flags, "is_virtual": flags},
			"getFloatingIP.json":                 {"is_deleted": flags, "is_virtual": flags, "assigned_to_resource_type": assign, "assigned_to_private_ip": assign},
			"listFloatingIPs.json":               {"[].is_deleted": flags, "[].is_virtual": flags, "[].assigned_to_resource_type": assign, "[].assigned_to_private_ip": assign},
			"assignFloatingIP.json":              {"assigned_to_resource_type": assign, "assigned_to_private_ip": assign},
			"unassignFloatingIP.json":            {"is_deleted": flags, "is_virtual": flags, "unassigned_at": unass, "uuid": unass},
			"createLoadBalancer.json":            {"display_name": name},
			"renameLoadBalancer.json":            {"display_name": name},
			"setLoadBalancerBillingAccount.json": {"display_name": name},
		}
	}()
	networkFreeFormInSample = map[string][]string{}
)
