package password

import (
	"strings"
	"testing"
)

// The test vectors of Drepper's specification (SHA-512 part).
func TestSHA512CryptVectors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		salt, key string
		rounds    int
		want      string
	}{
		{"saltstring", "Hello world!", 5000,
			"$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"},
		{"saltstringsaltstring", "Hello world!", 10000,
			"$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."},
		{"toolongsaltstring", "This is just a test", 5000,
			"$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0"},
	} {
		got, err := sha512Crypt(c.key, c.salt, c.rounds)
		// The specification writes rounds=5000 when it is given
		// explicitly; glibc omits the default.
		want := strings.Replace(c.want, "rounds=5000$", "", 1)
		if err != nil || got != want {
			t.Errorf("sha512Crypt(%q, %q, %d) = %s, %v; want %s", c.key, c.salt, c.rounds, got, err, want)
		}
	}
	h, err := ShadowHash("Password123")
	if err != nil || !strings.HasPrefix(h, "$6$") || len(h) != 3+16+1+86 || strings.Contains(h, "Password123") {
		t.Fatalf("ShadowHash = %q, %v", h, err)
	}
	salt := h[3:19]
	if again, err := sha512Crypt("Password123", salt, ShadowRounds); err != nil || again != h {
		t.Fatal("ShadowHash does not verify with its own salt")
	}
}
