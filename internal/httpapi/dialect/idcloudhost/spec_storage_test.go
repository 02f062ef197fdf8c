package idcloudhost

// storageOperations are this family's operations (see operations): the
// object-storage section (ID-37 to ID-46). Its paths are global (ID-amb-1):
// no location-scoped twins. Create Bucket is also served with POST. Delete
// key has no seed sample; its answer (the remaining keys, ID-amb-30) is
// validated with the Get keys sample.
var storageOperations = []operation{
	{"getS3Info", "GET", "/storage/api/s3", "ID-37", "getS3Info.json", 200},
	{"createBucket", "PUT", "/storage/bucket", "ID-38", "createBucket.json", 200},
	{"createBucketByPost", "POST", "/storage/bucket", "ID-38", "createBucket.json", 200},
	{"modifyBucket", "PATCH", "/storage/bucket", "ID-39", "modifyBucket.json", 200},
	{"deleteBucket", "DELETE", "/storage/bucket", "ID-40", "deleteBucket.json", 204},
	{"getBucket", "GET", "/storage/bucket", "ID-41", "getBucket.json", 200},
	{"listBuckets", "GET", "/storage/bucket/list", "ID-42", "listBuckets.json", 200},
	{"getS3User", "GET", "/storage/user", "ID-43", "getS3User.json", 200},
	{"deleteS3Key", "DELETE", "/storage/user/keys", "ID-44", "listS3Keys.json", 200},
	{"listS3Keys", "GET", "/storage/user/keys", "ID-45", "listS3Keys.json", 200},
	{"createS3Key", "POST", "/storage/user/keys", "ID-46", "createS3Key.json", 200},
}

// dataPlaneOperations need the S3 data plane and also declare 503 (a server
// running without one).
var dataPlaneOperations = map[string]bool{"getS3Info": true, "createBucket": true, "createBucketByPost": true,
	"deleteBucket": true}

// storageOptionalInSample and storageFreeFormInSample are this family's
// entries of optionalInSample and freeFormInSample: every field of its
// samples is required and no object is free-form.
var (
	storageOptionalInSample = map[string]map[string]string{}
	storageFreeFormInSample = map[string][]string{}
)
