package native

import (
	"os"
	"testing"

	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
)

func TestDump(t *testing.T) {
	os.WriteFile("/tmp/spec31.json", Spec(), 0o644)
	os.WriteFile("/tmp/spec30.json", Spec30(), 0o644)
	apitest.NewValidator(t, Spec30())
}
