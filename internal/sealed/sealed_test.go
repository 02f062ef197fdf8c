package sealed_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/sealed"
)

func TestSealOpen(t *testing.T) {
	t.Parallel()
	box, err := sealed.New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	s1, err := box.Seal("key-1", "secret")
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := box.Seal("key-1", "secret")
	if !strings.HasPrefix(s1, "gcm:") || strings.Contains(s1, "secret") || s1 == s2 {
		t.Fatalf("sealed forms %q %q: want gcm:, no plaintext, a fresh nonce each time", s1, s2)
	}
	if got, err := box.Open("key-1", s1); err != nil || got != "secret" {
		t.Fatalf("open = %q, %v", got, err)
	}
	// Another object's id, another key, a damaged value: refused.
	if _, err := box.Open("key-2", s1); err == nil {
		t.Fatal("opened with another associated id")
	}
	other, _ := sealed.New(bytes.Repeat([]byte{8}, 32))
	if _, err := other.Open("key-1", s1); err == nil {
		t.Fatal("opened with another key")
	}
	if _, err := box.Open("key-1", "gcm:!!"); err == nil {
		t.Fatal("opened a damaged value")
	}
	if _, err := (sealed.Box{}).Open("key-1", s1); err == nil {
		t.Fatal("a box without key opened a sealed value")
	}
	if _, err := sealed.New([]byte("short")); err == nil {
		t.Fatal("a 5-byte key was accepted")
	}
	// The keyless box (tests only) keeps the value readable.
	p, _ := sealed.Box{}.Seal("k", "v")
	if got, err := box.Open("k", p); p != "plain:v" || err != nil || got != "v" {
		t.Fatalf("plain %q %q %v", p, got, err)
	}
}
