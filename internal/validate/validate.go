// Package validate holds the few input rules shared by several domains, each
// returning an errs.KindInvalid error that names the field.
package validate

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trellis-cloud/trellis/internal/errs"
)

// MaxName is the longest name Trellis stores.
const MaxName = 255

// Name checks a display name: non-empty after trimming, at most MaxName
// characters, no control characters. It returns the trimmed name.
func Name(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", errs.Invalid(field, "must not be empty")
	case !utf8.ValidString(s):
		return "", errs.Invalid(field, "must be valid UTF-8")
	case utf8.RuneCountInString(s) > MaxName:
		return "", errs.Invalidf(field, "must be at most %d characters", MaxName)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "", errs.Invalid(field, "must not contain control characters")
		}
	}
	return s, nil
}

// Text checks optional free text: at most max characters, valid UTF-8, no
// control characters but tab, line feed and carriage return.
func Text(field, s string, max int) (string, error) {
	if err := Wire(field, s, nil, max); err != nil {
		return "", err
	}
	return s, nil
}

// TextField is one string of an input with its name and limit, for Texts.
type TextField struct {
	Name  string
	Value string
	Max   int
}

// Texts checks each field with Text, in order, and returns the first
// failure.
func Texts(fs []TextField) error {
	for _, f := range fs {
		if _, err := Text(f.Name, f.Value, f.Max); err != nil {
			return err
		}
	}
	return nil
}

// Capacity checks a byte count.
func Capacity(field string, n int64) error {
	if n < 0 {
		return errs.Invalid(field, "must not be negative")
	}
	return nil
}

// Email checks an e-mail address and returns it lower-cased.
func Email(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errs.Invalid(field, "must not be empty")
	}
	if len(s) > 254 {
		return "", errs.Invalid(field, "must be at most 254 characters")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s, "@") {
		return "", errs.Invalid(field, "must be an e-mail address like name@example.com")
	}
	return strings.ToLower(s), nil
}

// Currency checks an ISO-4217 code (three upper-case letters).
func Currency(field, s string) error {
	if len(s) != 3 {
		return errs.Invalid(field, "must be a three-letter ISO 4217 code such as EUR")
	}
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return errs.Invalid(field, "must be a three-letter ISO 4217 code such as EUR")
		}
	}
	return nil
}

// specials are the characters the Impossible Cloud password rule counts as
// special.
const specials = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

// Password checks the password rule of the Management Console: 8–128
// characters with at least one lower-case letter, upper-case letter, digit
// and special character.
func Password(field, s string) error {
	n := utf8.RuneCountInString(s)
	if n < 8 || n > 128 {
		return errs.Invalid(field, "must be 8 to 128 characters long")
	}
	var lower, upper, digit, special bool
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= '0' && r <= '9':
			digit = true
		case strings.ContainsRune(specials, r):
			special = true
		}
	}
	var missing []string
	if !lower {
		missing = append(missing, "a lower-case letter")
	}
	if !upper {
		missing = append(missing, "an upper-case letter")
	}
	if !digit {
		missing = append(missing, "a digit")
	}
	if !special {
		missing = append(missing, "a special character")
	}
	if len(missing) > 0 {
		return errs.Invalid(field, "must contain "+strings.Join(missing, ", "))
	}
	return nil
}

// MaxWireText bounds any one string a request carries (a body field, a
// query parameter); the longest field Trellis keeps is a catalog icon of
// 100,000 characters. Per-field limits are the domains'.
const MaxWireText = 131_072

// MaxWireParam bounds a path segment or a header used as a value.
const MaxWireParam = 4096

// MaxID bounds an identifier Trellis keeps that a client chose (a BSS
// account or subscription id, a payment number).
const MaxID = 128

// MaxDescription bounds free text such as a description or a reference.
const MaxDescription = 1000

// Wire checks text as it arrives from a request, before anything decodes or
// stores it: valid UTF-8, no NUL or other control character (tab, line feed
// and carriage return are text), at most max characters. raw is the text as
// it came over the wire when it differs from s (a JSON string, whose decoder
// would have replaced invalid bytes), nil otherwise.
func Wire(field, s string, raw []byte, max int) error {
	if !utf8.ValidString(s) || (raw != nil && !utf8.Valid(raw)) {
		return errs.Invalid(field, "must be valid UTF-8")
	}
	if i := strings.IndexFunc(s, isControl); i >= 0 {
		return errs.Invalidf(field, "must not contain control characters (found %U at byte %d)", []rune(s[i:])[0], i)
	}
	if max > 0 && len(s) > max && utf8.RuneCountInString(s) > max {
		return errs.Invalidf(field, "must be at most %d characters", max)
	}
	return nil
}

// isControl reports the C0 controls other than tab, line feed and carriage
// return, and DEL: bytes PostgreSQL refuses (NUL) or that no field of ours
// means.
func isControl(r rune) bool {
	return (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f
}

// ID checks an identifier a client chose (a BSS id, a payment number):
// non-empty, at most max characters, printable, no control characters.
// It returns the id trimmed of surrounding space.
func ID(field, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errs.Invalid(field, "must not be empty")
	}
	if err := Wire(field, s, nil, max); err != nil {
		return "", err
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "", errs.Invalid(field, "must not contain control characters")
		}
	}
	return s, nil
}

// Slug checks an identifier-like name (a region, a location slug): 1 to max
// characters of letters, digits, '-', '_' and '.', starting with a letter or
// digit.
func Slug(field, s string, max int) error {
	if s == "" {
		return errs.Invalid(field, "must not be empty")
	}
	if len(s) > max {
		return errs.Invalidf(field, "must be at most %d characters", max)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case i > 0 && (c == '-' || c == '_' || c == '.'):
		default:
			return errs.Invalid(field, "must be letters, digits, '-', '_' and '.', starting with a letter or digit")
		}
	}
	return nil
}
