package password

import (
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/password/passwordtest"
)

func TestHash(t *testing.T) {
	t.Parallel()
	h, err := Hash("S3cret!pass")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("unexpected hash format %q", h)
	}
	if !passwordtest.Matches("S3cret!pass", h) {
		t.Fatal("the right password was refused")
	}
	for _, bad := range []string{"S3cret!pasS", "", "S3cret!pass "} {
		if passwordtest.Matches(bad, h) {
			t.Fatalf("%q accepted", bad)
		}
	}
	h2, _ := Hash("S3cret!pass")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	for _, malformed := range []string{"", "plain", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", h[:len(h)-3] + "!!!", "$argon2id$v=18" + h[len("$argon2id$v=19"):]} {
		if passwordtest.Matches("S3cret!pass", malformed) {
			t.Fatalf("malformed hash %q verified", malformed)
		}
	}
}
