package password

import (
	"crypto/rand"
	"crypto/sha512"
	"strconv"
	"strings"
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
	return sha512Crypt(pw, string(salt), ShadowRounds), nil
}

// sha512Crypt is Ulrich Drepper's SHA-512-based crypt ("Unix crypt using
// SHA-256 and SHA-512", 2007), as glibc implements it. salt is at most 16
// characters; rounds 1000 to 999,999,999 (5000 is written implicitly).
func sha512Crypt(pw, salt string, rounds int) string {
	if len(salt) > 16 {
		salt = salt[:16]
	}
	p, s := []byte(pw), []byte(salt)
	b := sha512.New()
	b.Write(p)
	b.Write(s)
	b.Write(p)
	db := b.Sum(nil)

	a := sha512.New()
	a.Write(p)
	a.Write(s)
	for i := len(p); i > 0; i -= 64 {
		a.Write(db[:min(i, 64)])
	}
	for i := len(p); i > 0; i >>= 1 {
		if i&1 != 0 {
			a.Write(db)
		} else {
			a.Write(p)
		}
	}
	da := a.Sum(nil)

	dp := sha512.New()
	for range p {
		dp.Write(p)
	}
	pBytes := repeatTo(dp.Sum(nil), len(p))

	ds := sha512.New()
	for i := 0; i < 16+int(da[0]); i++ {
		ds.Write(s)
	}
	sBytes := repeatTo(ds.Sum(nil), len(s))

	c := da
	for r := 0; r < rounds; r++ {
		h := sha512.New()
		if r&1 != 0 {
			h.Write(pBytes)
		} else {
			h.Write(c)
		}
		if r%3 != 0 {
			h.Write(sBytes)
		}
		if r%7 != 0 {
			h.Write(pBytes)
		}
		if r&1 != 0 {
			h.Write(c)
		} else {
			h.Write(pBytes)
		}
		c = h.Sum(nil)
	}

	var out strings.Builder
	out.WriteString("$6$")
	if rounds != ShadowRounds {
		out.WriteString("rounds=" + strconv.Itoa(rounds) + "$")
	}
	out.WriteString(salt)
	out.WriteByte('$')
	// The bytes are encoded in this order, three at a time.
	order := [][3]int{{0, 21, 42}, {22, 43, 1}, {44, 2, 23}, {3, 24, 45}, {25, 46, 4}, {47, 5, 26}, {6, 27, 48},
		{28, 49, 7}, {50, 8, 29}, {9, 30, 51}, {31, 52, 10}, {53, 11, 32}, {12, 33, 54}, {34, 55, 13}, {56, 14, 35},
		{15, 36, 57}, {37, 58, 16}, {59, 17, 38}, {18, 39, 60}, {40, 61, 19}, {62, 20, 41}}
	enc := func(w uint32, n int) {
		for ; n > 0; n-- {
			out.WriteByte(cryptAlphabet[w&0x3f])
			w >>= 6
		}
	}
	for _, g := range order {
		enc(uint32(c[g[0]])<<16|uint32(c[g[1]])<<8|uint32(c[g[2]]), 4)
	}
	enc(uint32(c[63]), 2)
	return out.String()
}

// repeatTo returns sum repeated to n bytes.
func repeatTo(sum []byte, n int) []byte {
	out := make([]byte, 0, n)
	for len(out) < n {
		out = append(out, sum[:min(n-len(out), len(sum))]...)
	}
	return out
}
