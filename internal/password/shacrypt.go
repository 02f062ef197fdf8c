package password

import (
	"crypto/rand"
	"strconv"

	"github.com/GehirnInc/crypt/sha512_crypt"
)

// ShadowRounds is the SHA-512-crypt cost of ShadowHash: the glibc default.
const ShadowRounds = 5000

const cryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// ShadowHash returns a SHA-512-crypt hash ("$6$salt$…") of a password that
// goes into a machine: the form /etc/shadow, chpasswd -e and cloud-init's
// passwd take, so a provider can set it without ever seeing the password.
// Passwords Trellis itself checks use Hash (argon2id).
func ShadowHash(pw string) (string, error) {
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	salt := make([]byte, 16)
	for i, b := range raw {
		salt[i] = cryptAlphabet[int(b)%len(cryptAlphabet)]
	}
	return sha512Crypt(pw, string(salt), ShadowRounds)
}

// sha512Crypt is Ulrich Drepper's SHA-512-based crypt ("Unix crypt using
// SHA-256 and SHA-512", 2007) as glibc writes it, computed by
// github.com/GehirnInc/crypt: salt is at most 16 characters of
// cryptAlphabet (longer is cut); rounds 1000 to 999,999,999, and the
// default 5000 is implicit (not written into the hash).
func sha512Crypt(pw, salt string, rounds int) (string, error) {
	setting := sha512_crypt.MagicPrefix + salt
	if rounds != ShadowRounds {
		setting = sha512_crypt.MagicPrefix + "rounds=" + strconv.Itoa(rounds) + "$" + salt
	}
	return sha512_crypt.New().Generate([]byte(pw), []byte(setting))
}
