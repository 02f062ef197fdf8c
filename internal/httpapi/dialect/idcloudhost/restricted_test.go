package idcloudhost_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/idcloudhost"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// matrixRow is one user-level route, sent by the restricted token (7,
// account 6) and then by the unrestricted one (2) of the same user.
type matrixRow struct {
	op                       string // the spec's operationId
	method, path, body       string
	restricted, unrestricted int
}

// accountBoundOps are the operations on one billing account's resources
// (a restricted token reaches them for its own account only, tested with
// each family). The user-level operations — on what belongs to the whole
// user: the user and its tokens, its accounts' list and default, its S3
// user and keys, its networks, the shared reads — are the rows of
// TestRestrictedTokenMatrix, which checks that the two cover the spec.
var accountBoundOps = []string{
	"addCard", "addForwardingRule", "addLoadBalancerTarget", "addServiceWhitelist", "addVMDisk", "applyForInvoicePayment",
	"assignFloatingIP", "attachDisk", "buyCredit", "changeVMPassword", "cloneVM", "configureRecurringPayment",
	"createBucket", "createBucketByPost", "createDisk", "createFloatingIP", "createLoadBalancer", "createReplica",
	"createServicePackage", "createVM", "deleteBillingAccount", "deleteBucket", "deleteCard", "deleteDisk",
	"deleteFloatingIP", "deleteLoadBalancer", "deleteReplica", "deleteServicePackage", "deleteServiceWhitelist",
	"deleteVM", "deleteVMDisk", "detachDisk", "getBillingAccount", "getBucket", "getCard", "getDisk", "getFloatingIP",
	"getInvoice", "getLoadBalancer", "getServicePackage", "getServiceSecrets", "getServiceWhitelist", "getUnpaidAmount",
	"getUsage", "getVM", "hasActiveCampaigns", "listBillingResources", "listBuckets", "listCards", "listCredit",
	"listDisks", "listFloatingIPs", "listInvoices", "listLoadBalancers", "listReplicas", "listServicePackages", "listVMs",
	"modifyBucket", "modifyVM", "modifyVMDisk", "payAll", "payAmount", "payInvoice", "rebuildVM", "reinstallVM",
	"releaseVMPublicIP", "removeForwardingRule", "removeLoadBalancerTarget", "renameLoadBalancer", "requestCreditInvoice",
	"rescueStartVM", "reserveVMPublicIP", "setLoadBalancerBillingAccount", "setPrimaryCard", "setResourceBilling",
	"startVM", "stopVM", "toggleVMBackup", "unassignFloatingIP", "updateBillingAccount", "updateDisk",
	"updateFloatingIP", "updateServicePackage",
	// Catalog reads: the same for every token (tested with the catalog).
	"getPricingPolicy", "getVMParameters", "listAppCatalogImages", "listHostPools", "listPlainOSImages", "listVMImages",
}

// TestRestrictedTokenMatrix is issue 14's finding 8: a token restricted to
// one billing account may read what belongs to the whole user, but may not
// change it, nor read a secret that reaches beyond its account (S3 keys
// reach every bucket of the user). The unrestricted token of the same user
// may do all of it. Every exchange is validated against the spec.
func TestRestrictedTokenMatrix(t *testing.T) {
	t.Parallel()
	const (
		R, U = keyRestricted, keyUser
		ok   = http.StatusOK
		no   = http.StatusForbidden
	)
	storageRows := []matrixRow{
		{"getUser", "GET", "/user-resource/user", "", ok, ok},
		{"updateUserProfile", "PATCH", "/user-resource/user/profile", "first_name=Ann", no, ok},
		{"listTokens", "GET", "/user-resource/token/list", "", ok, ok},
		{"createToken", "POST", "/user-resource/token", "description=x", no, ok},
		{"updateToken", "PATCH", "/user-resource/token", "token_id=2&description=y", no, ok},
		{"listLocations", "GET", "/config/locations", "", ok, ok},
		{"listBillingAccounts", "GET", "/payment/billing_account/list", "", ok, ok},
		{"setDefaultBillingAccount", "POST", "/payment/billing_account/set_default", "billing_account_id=6", no, ok},
		{"getS3Info", "GET", "/storage/api/s3", "", ok, ok},
		{"getS3User", "GET", "/storage/user", "", no, ok},
		{"listS3Keys", "GET", "/storage/user/keys", "", no, ok},
		{"createS3Key", "POST", "/storage/user/keys", "", no, ok},
		{"deleteS3Key", "DELETE", "/storage/user/keys", "access_key=" + seedKey, no, ok},
		{"deleteToken", "DELETE", "/user-resource/token", "token_id=2", no, ok}, // last: token 2 is U
	}
	netRows := []matrixRow{
		{"listNetworks", "GET", "/network/networks", "", ok, ok},
		{"getNetwork", "GET", "/network/network/" + netB, "", ok, ok},
		{"createNetwork", "POST", "/network/network", "name=mine", no, ok},
		{"createNetwork (the default)", "POST", "/network/network", "", ok, ok},
		{"renameNetwork", "PATCH", "/network/network/" + netB, "name=other", no, ok},
		{"setDefaultNetwork", "PUT", "/network/network/" + netB + "/default", "", no, ok},
		{"setDefaultNetwork (back)", "PUT", "/network/network/" + netDefault + "/default", "", no, ok},
		{"deleteNetwork", "DELETE", "/network/network/" + netB, "", no, ok},
	}
	run := func(t *testing.T, f *fixture, rows []matrixRow) {
		for _, r := range rows {
			for _, c := range []struct {
				key  string
				want int
			}{{R, r.restricted}, {U, r.unrestricted}} {
				resp := f.form(t, c.key, r.method, r.path, r.body)
				if resp.Status != c.want {
					who := "unrestricted"
					if c.key == R {
						who = "restricted"
					}
					t.Errorf("%s %s %s as the %s token: %d, want %d: %s", r.op, r.method, r.path, who, resp.Status, c.want, resp.Body)
				}
			}
		}
	}

	// The rows and the account-bound list together are the spec.
	doc, err := openapi3.NewLoader().LoadFromData(idcloudhost.Spec())
	if err != nil {
		t.Fatal(err)
	}
	covered := slices.Clone(accountBoundOps)
	for _, r := range slices.Concat(storageRows, netRows) {
		covered = append(covered, strings.Fields(r.op)[0])
	}
	for _, item := range doc.Paths.Map() {
		for _, o := range item.Operations() {
			if id := strings.TrimSuffix(o.OperationID, "InLocation"); !slices.Contains(covered, id) {
				t.Errorf("operation %s is neither in the matrix nor account-bound", o.OperationID)
			}
		}
	}

	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Run("identity, billing, storage", func(t *testing.T) {
			run(t, newStorageFixture(t, d, apitest.NewValidator(t, idcloudhost.Spec())).fixture, storageRows)
		})
	})
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		t.Run("networks", func(t *testing.T) { run(t, newNetFixture(t, d).fixture, netRows) })
	})
}
