package services

import (
	"crypto/rand"
	"math/big"
)

// passwordAlphabet is what SQL passwords are made of: letters and digits,
// safe in connection strings and shells.
const passwordAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// PasswordLength is the length of a generated SQL password (about 143 bits).
const PasswordLength = 24

func newPassword() (string, error) {
	b := make([]byte, PasswordLength)
	max := big.NewInt(int64(len(passwordAlphabet)))
	for i := range b {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", err
		}
		b[i] = passwordAlphabet[n.Int64()]
	}
	return string(b), nil
}
