package infiterra

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/trellis-cloud/trellis/internal/bss"
)

// TestServedCatalog: the answers of fields/get, fields/servicedefinition
// and accounts/syncoptions built from bss's catalog are, byte for byte,
// those served when bss held the wire model (testdata/served, recorded
// then).
func TestServedCatalog(t *testing.T) {
	t.Parallel()
	svc, ctx, c := &bss.Service{}, context.Background(), bss.Call{}
	for name, v := range map[string]any{
		"fields_get":               fieldCollection(svc.Settings(ctx, c)),
		"fields_servicedefinition": productTypes(svc.Catalog(ctx, c)),
		"accounts_syncoptions":     customFields(svc.AccountOptions(ctx, c), false),
	} {
		rec := httptest.NewRecorder()
		format.JSON(rec, http.StatusOK, v)
		want, err := os.ReadFile(filepath.Join("testdata", "served", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if got := bytes.TrimSpace(rec.Body.Bytes()); !bytes.Equal(got, bytes.TrimSpace(want)) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
}
