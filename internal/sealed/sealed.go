// Package sealed keeps secrets Trellis must be able to read back (managed
// database passwords, S3 secret keys: SigV4 needs the plaintext) encrypted at
// rest with the server's secret key (AES-256-GCM).
package sealed

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"

	"github.com/trellis-cloud/trellis/internal/errs"
)

// Box seals and opens secrets. The zero Box (no key) stores them as
// "plain:…", which only tests without a key use.
type Box struct{ aead cipher.AEAD }

// New returns a Box for a 32-byte key; an empty key gives the plain Box.
func New(key []byte) (Box, error) {
	if len(key) == 0 {
		return Box{}, nil
	}
	if len(key) != 32 {
		return Box{}, errors.New("sealed: the secret key must be 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return Box{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return Box{}, err
	}
	return Box{aead: aead}, nil
}

// Seal returns the stored form of secret: "gcm:" and the base64 of
// nonce‖ciphertext, with aad (the owning object's id) as associated data, so
// a sealed value copied to another object does not open.
func (b Box) Seal(aad, secret string) (string, error) {
	if b.aead == nil {
		return "plain:" + secret, nil
	}
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return "gcm:" + base64.StdEncoding.EncodeToString(b.aead.Seal(nonce, nonce, []byte(secret), []byte(aad))), nil
}

// Open returns the secret a Seal with the same aad produced.
func (b Box) Open(aad, stored string) (string, error) {
	if s, ok := strings.CutPrefix(stored, "plain:"); ok {
		return s, nil
	}
	raw, ok := strings.CutPrefix(stored, "gcm:")
	if !ok || b.aead == nil {
		return "", errs.New(errs.KindInternal, "a stored secret cannot be opened (no or another secret key)")
	}
	buf, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(buf) < b.aead.NonceSize() {
		return "", errs.New(errs.KindInternal, "a stored secret is damaged")
	}
	s, err := b.aead.Open(nil, buf[:b.aead.NonceSize()], buf[b.aead.NonceSize():], []byte(aad))
	if err != nil {
		return "", errs.New(errs.KindInternal, "a stored secret cannot be opened (another secret key?)")
	}
	return string(s), nil
}
