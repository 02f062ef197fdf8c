package idcloudhost

// catalogOperations are this family's operations (see operations): ID-13
// (and its location-scoped twin) and ID-70 to ID-73.
var catalogOperations = []operation{
	{"listHostPools", "GET", "/user-resource/host_pool/list", "ID-13", "listHostPools.json", 200},
	{"listHostPoolsInLocation", "GET", "/{location}/user-resource/host_pool/list", "ID-13", "listHostPools.json", 200},
	{"getVMParameters", "GET", "/api/parameters/vm", "ID-70", "getVMParameters.json", 200},
	{"listVMImages", "GET", "/config/vm_images", "ID-71", "listVMImages.json", 200},
	{"listPlainOSImages", "GET", "/config/vm_images/plain_os", "ID-72", "listPlainOSImages.json", 200},
	{"listAppCatalogImages", "GET", "/config/vm_images/app_catalog", "ID-73", "listAppCatalogImages.json", 200},
}

// catalogOptionalInSample and catalogFreeFormInSample are this family's
// entries of optionalInSample and freeFormInSample.
var (
	catalogOptionalInSample = map[string]map[string]string{}
	catalogFreeFormInSample = map[string][]string{}
)
