package app_test

import (
	"crypto/sha256"
	"sync"
	"testing"

	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/idcloudhost"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/native"
)

// validators holds one validator per OpenAPI document (by its hash):
// loading a document takes a tenth of a second of CPU, and a validator is
// safe for concurrent use and reports to the test passed to each call.
var validators sync.Map // [sha256.Size]byte → *apitest.Validator

// validator returns the test binary's validator of spec, loading it on
// first use. (Coverage, Validator.Uncovered, is then the binary's, not a
// test's: no test here reads it.)
func validator(t testing.TB, spec []byte) *apitest.Validator {
	t.Helper()
	key := sha256.Sum256(spec)
	if v, ok := validators.Load(key); ok {
		return v.(*apitest.Validator)
	}
	v, _ := validators.LoadOrStore(key, apitest.NewValidator(t, spec))
	return v.(*apitest.Validator)
}

// The documents built at run time (native's from its handlers, idcloudhost's
// merged from files), built once.
var (
	nativeSpec = sync.OnceValue(native.Spec30)
	idchSpec   = sync.OnceValue(idcloudhost.Spec)
)
