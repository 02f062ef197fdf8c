package native

// The floating-IP pool operations' entries of the shared tables. The env
// must wire the network service (Deps.Network, registered with
// s.registerNetworkPools(api, s.d.Network)) and hold location cyc01 with
// one range, whose id is rangeID (a range TestAuthorization and
// TestBadInput may try to delete: DELETE of an unknown id is what they
// send, so nothing changes).

// networkPoolAuthzCases are the pool operations for authzCases: provider
// admins only; the pools are the provider's, so there is no foreign object.
func (e *env) networkPoolAuthzCases() []authzCase {
	providerAdmin := []string{aAdmin, provStaff, provViewer}
	return []authzCase{
		{method: "GET", path: "/locations/bus02/ip-pools", forbidden: providerAdmin},
		{method: "POST", path: "/locations/bus02/ip-pools", body: `{"cidr":"192.0.2.0/24"}`, forbidden: providerAdmin},
		{method: "DELETE", path: "/ip-pools/" + unknownID, forbidden: providerAdmin},
	}
}

// networkPoolBadRoutes are the pool operations for badRoutes.
func (e *env) networkPoolBadRoutes() []badRoute {
	valid := `"cidr":"192.0.2.0/24"`
	return []badRoute{
		{"POST", "/locations/bus02/ip-pools", append(bodyCases(valid), []badCase{
			{name: "cidr missing", body: `{}`, status: 422, field: "cidr"},
			{name: "cidr too short", body: `{"cidr":"1/8"}`, status: 422, field: "cidr"},
			{name: "cidr not a CIDR", body: `{"cidr":"not-a-cidr"}`, status: 400, field: "cidr", specValid: true},
			{name: "cidr IPv6", body: `{"cidr":"2001:db8::/64"}`, status: 400, field: "cidr", specValid: true},
			{name: "cidr host bits", body: `{"cidr":"192.0.2.1/24"}`, status: 400, field: "cidr", specValid: true},
			{name: "cidr too large", body: `{"cidr":"10.0.0.0/8"}`, status: 400, field: "cidr", specValid: true},
			{name: "exclude outside", body: `{"cidr":"192.0.2.0/24","exclude":["198.51.100.1"]}`, status: 400, field: "exclude", specValid: true},
			{name: "exclude not a list", body: `{"cidr":"192.0.2.0/24","exclude":"192.0.2.1"}`, status: 422, field: "exclude"},
			{name: "location unknown", path: "/locations/nowhere1/ip-pools", body: `{` + valid + `}`, status: 404, field: "location", specValid: true},
			{name: "location malformed", path: "/locations/NO/ip-pools", body: `{` + valid + `}`, status: 422, field: "slug"},
			{name: "not a provider admin", key: aAdmin, body: `{` + valid + `}`, status: 403, specValid: true},
		}...)},
		{"DELETE", "/ip-pools/{id}", []badCase{
			{name: "id malformed", path: "/ip-pools/x", status: 422, field: "id"},
			{name: "id unknown", path: "/ip-pools/" + unknownID, status: 404, specValid: true},
			{name: "not a provider admin", key: aAdmin, path: "/ip-pools/" + unknownID, status: 403, specValid: true},
		}},
	}
}
