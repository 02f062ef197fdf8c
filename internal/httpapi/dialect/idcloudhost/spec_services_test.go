package idcloudhost

// servicesOperations are this family's operations (see operations): the
// managed-service section (ID-100 to ID-108), each also under /{location}/
// (ID-amb-1), the twins validated with the sample of the global operation.
var servicesOperations = func() []operation {
	global := []operation{
		{"createServicePackage", "POST", "/user-resource/service/package", "ID-100", "createServicePackage.json", 200},
		{"listServicePackages", "GET", "/user-resource/service/packages", "ID-101", "listServicePackages.json", 200},
		{"getServicePackage", "GET", "/user-resource/service/package/{service_package_uuid}", "ID-102", "getServicePackage.json", 200},
		{"updateServicePackage", "PATCH", "/user-resource/service/package/{service_package_uuid}", "ID-103", "updateServicePackage.json", 200},
		{"getServiceSecrets", "GET", "/user-resource/service/package/{service_package_uuid}/secrets", "ID-104", "getServiceSecrets.json", 200},
		{"deleteServicePackage", "DELETE", "/user-resource/service/package/{service_package_uuid}", "ID-105", "deleteServicePackage.json", 200},
		{"getServiceWhitelist", "GET", "/user-resource/service/package/{service_uuid}/whitelist_addresses", "ID-106", "getServiceWhitelist.json", 200},
		{"addServiceWhitelist", "POST", "/user-resource/service/package/{service_uuid}/whitelist_addresses", "ID-107", "addServiceWhitelist.json", 200},
		{"deleteServiceWhitelist", "DELETE", "/user-resource/service/package/{service_uuid}/whitelist_addresses", "ID-108", "deleteServiceWhitelist.json", 200},
	}
	out := global
	for _, o := range global {
		o.id += "InLocation"
		o.path = "/{location}" + o.path
		out = append(out, o)
	}
	return out
}()

// servicesOptionalInSample and servicesFreeFormInSample are this family's
// entries of optionalInSample and freeFormInSample.
var (
	servicesOptionalInSample = func() map[string]map[string]string {
		pkg := map[string]string{
			"prices[].serviceNameInUptime": "only resource types with several components (STORAGE, LICENSE) name one",
			// {address} minus address is {}, the allocation of a deleted
			// package's resource.
			"resources[].resource_allocation.address": "a resource of a deleted package has the empty allocation {}",
		}
		list := map[string]string{}
		for k, v := range pkg {
			list["[]."+k] = v
		}
		del := map[string]string{"deleted_at": "the seed shows deleted_at in the delete sample only (Trellis sends null before, ID-amb-33)"}
		for k, v := range pkg {
			if k != "resources[].resource_allocation.address" { // every allocation of the delete sample is {}
				del[k] = v
			}
		}
		return map[string]map[string]string{
			"createServicePackage.json": pkg,
			"getServicePackage.json":    pkg,
			"updateServicePackage.json": pkg,
			"listServicePackages.json":  list,
			"deleteServicePackage.json": del,
		}
	}()
	servicesFreeFormInSample = map[string][]string{}
)
