// Package network is Trellis's networking: users' private networks, the
// public floating-IP pools and reserved addresses, network load balancers,
// and the VM attachments (interfaces) compute asks for. It owns the address
// management (see ipam.go): subnets, host addresses, MACs and IPv6 are
// allocated inside the caller's transaction, and public addresses are rows
// claimed by conditional updates, so nothing is handed out twice, under
// concurrency and across nodes sharing one database.
//
// State machines (the Provider makes them real; the sim provider is the
// built-in fake):
//
//	network:       pending → active       (CreateNetwork; a failure leaves "error",
//	                                       the job retries: error → active)
//	               deleted at once (the row), then DeleteNetwork runs
//	load balancer: pending → active       (ApplyLB of the whole configuration;
//	                                       every change bumps its version → pending)
//	               error on a failed apply; the job retries with the latest version
//	               deleted at once, then DeleteLB runs
//	floating IP:   reserved+unassigned ⇄ assigned (VM, load balancer, service)
//	               → released (the address returns to the pool)
//
// The states are internal: the idcloudhost objects have no status field, and
// a resource is readable and listed immediately after its create returns.
// Steps run through River jobs inserted in the request's transaction; when
// the provider's delay is 0 the service also runs the step right after
// commit ("inline first attempt") and the job, due 30 s later, finds nothing
// left to do.
//
// Billing (usage segments): a reserved, unassigned floating IP is billed
// (MeterFloatingIP, named by its address) from the instant it is reserved or
// unassigned until it is assigned or released; an assigned one is not. A
// load balancer is billed (MeterLoadBalancer, named by its display name)
// from create to delete, on its current billing account. A managed
// service's virtual IP is billed by the service.
//
// Decisions where the seed is silent:
//   - Networks are per user and location (ID-amb-1: network/* is
//     location-scoped); "exactly one default" holds per (user, location),
//     backed by a partial unique index. The first network of a user in a
//     location is its default.
//   - Subnets are /24s of 10.0.0.0/8 (configurable), never overlapping within
//     a user across all locations; vlan_id is a per-location counter
//     (VXLAN-style, never reused); subnet_ipv6 is a /64 of a configurable
//     prefix from a global counter.
//   - "Non-empty" = attached VMs or load balancers (resources_count).
//   - Load balancer targets are VMs of the same user and location, in any of
//     the user's networks (the seed's sample shows a target outside the LB's
//     subnet). A deleted VM stops being a target.
//   - reserve_public_ip on a load balancer defaults to false; the reserved
//     address is assigned to the LB (assigned_to_resource_type
//     "load_balancer") and stays reserved, unassigned, when the LB is
//     deleted, like a deleted VM's.
//   - A forwarding rule's source port is unique per load balancer.
//   - Moving a floating IP or LB to another billing account (ID-56, ID-69)
//     resolves the account like a read (a restricted token may only name its
//     own) and refuses deleted accounts.
package network
