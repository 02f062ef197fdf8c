package infiterra_test

import (
	"os"
	"path/filepath"
	"testing"
)

// sample returns a request example of the contract reference verbatim
// (testdata/requests, copied from the reference's §4).
func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "requests", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
