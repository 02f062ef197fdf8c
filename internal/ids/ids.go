// Package ids makes and checks the UUIDs that identify Trellis objects.
package ids

import (
	"strings"

	"github.com/google/uuid"
)

// New returns a new time-ordered UUID (v7) in canonical lower-case form, so
// that ordering by id follows creation order, which cursor pagination uses.
func New() string {
	return uuid.Must(uuid.NewV7()).String()
}

// Valid reports whether s is a UUID in canonical 8-4-4-4-12 form.
func Valid(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// Normalize returns the canonical lower-case form of a valid UUID, and
// reports whether s was one.
func Normalize(s string) (string, bool) {
	if !Valid(s) {
		return "", false
	}
	return strings.ToLower(s), true
}
