package catalog

import (
	"strings"
	"testing"
	"unicode"
)

// The seed's look-ahead expressions, checked as conjunctions, agree with a
// plain reading of their meaning on many strings.
func TestCompileRuleLookAheads(t *testing.T) {
	t.Parallel()
	pw, err := compileRule(`^(?=.*[a-z])(?=.*[A-Z])(?=.*\d).{8,}$`)
	if err != nil {
		t.Fatal(err)
	}
	un, err := compileRule(`^(?=.{1,30}$)[a-zA-Z_][0-9a-zA-Z_-]*$`)
	if err != nil {
		t.Fatal(err)
	}
	if len(pw.all) != 4 || len(un.all) != 2 {
		t.Fatalf("parts: %d, %d", len(pw.all), len(un.all))
	}
	password := func(s string) bool {
		if strings.Contains(s, "\n") || len([]rune(s)) < 8 {
			return false
		}
		return strings.ContainsFunc(s, func(r rune) bool { return r >= 'a' && r <= 'z' }) &&
			strings.ContainsFunc(s, func(r rune) bool { return r >= 'A' && r <= 'Z' }) &&
			strings.ContainsFunc(s, func(r rune) bool { return r >= '0' && r <= '9' })
	}
	username := func(s string) bool {
		if len(s) < 1 || len(s) > 30 {
			return false
		}
		for i, r := range s {
			ok := r == '_' || r < unicode.MaxASCII && unicode.IsLetter(r) || i > 0 && (r == '-' || r >= '0' && r <= '9')
			if !ok {
				return false
			}
		}
		return true
	}
	alphabet := []string{"a", "B", "3", "_", "-", " ", "\n", "é", "!"}
	var gen func(prefix string, n int, f func(string))
	gen = func(prefix string, n int, f func(string)) {
		f(prefix)
		if n == 0 {
			return
		}
		for _, c := range alphabet {
			gen(prefix+c, n-1, f)
		}
	}
	checked := 0
	gen("", 4, func(s string) {
		for _, x := range []string{s, s + "xY9zz", strings.Repeat(s, 8), "Abcdefg" + s} {
			checked++
			if got, want := pw.match(x), password(x); got != want {
				t.Fatalf("password %q: got %v, want %v", x, got, want)
			}
			if got, want := un.match(x), username(x); got != want {
				t.Fatalf("username %q: got %v, want %v", x, got, want)
			}
		}
	})
	for _, c := range []struct {
		s    string
		want bool
	}{{strings.Repeat("u", 30), true}, {strings.Repeat("u", 31), false}, {"Password123", true}, {"Pässword123", true}} {
		if got := un.match(c.s) || pw.match(c.s); got != c.want {
			t.Errorf("%q: %v", c.s, got)
		}
	}
	t.Logf("checked %d strings", checked)
}

func TestClosingParen(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		s    string
		want int
	}{
		{`(?=a)`, 4},
		{`(?=[)])x)`, 6},
		{`(?=[^]x])`, 8},
		{`(?=\)a)b)`, 6},
		{`(?=(a|b))`, 8},
		{`(?=a`, -1},
	} {
		if got := closingParen(c.s); got != c.want {
			t.Errorf("closingParen(%q) = %d, want %d", c.s, got, c.want)
		}
	}
}
