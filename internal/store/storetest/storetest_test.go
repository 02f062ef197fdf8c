package storetest_test

import (
	"testing"

	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	for _, kind := range dbtest.Kinds() {
		t.Logf("storetest runs on %s", kind)
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) { storetest.Run(t, d) })
}
