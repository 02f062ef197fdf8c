package buckets

import (
	"net/netip"
	"strings"

	"github.com/trellis-cloud/trellis/internal/errs"
)

// ValidateName checks S3's bucket naming rules (the strict, DNS-compatible
// ones versitygw enforces too): 3 to 63 characters of lowercase letters,
// digits, dots and hyphens, starting and ending with a letter or digit, no
// two adjacent dots, not shaped like an IP address, not with the prefixes
// and suffixes S3 reserves.
func ValidateName(name string) error {
	bad := func(msg string) error { return errs.Invalid("name", "must conform to S3 bucket naming rules: "+msg) }
	if len(name) < 3 || len(name) > 63 {
		return bad("3 to 63 characters")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return bad("only lowercase letters, digits, dots and hyphens")
		}
	}
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
	if !alnum(name[0]) || !alnum(name[len(name)-1]) {
		return bad("must start and end with a letter or digit")
	}
	if strings.Contains(name, "..") || strings.Contains(name, ".-") || strings.Contains(name, "-.") {
		return bad("no adjacent dots, nor a dot next to a hyphen")
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return bad("must not be formatted as an IP address")
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return bad("must not start with " + p)
		}
	}
	for _, sfx := range []string{"-s3alias", "--ol-s3", "--x-s3", ".mrap"} {
		if strings.HasSuffix(name, sfx) {
			return bad("must not end with " + sfx)
		}
	}
	return nil
}
