package cms

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// newSecret returns a random URL-safe secret with prefix (e.g. "ink_"), 32 bytes of entropy.
func newSecret(prefix string) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// hashSecret is how secrets are stored: a fast hash is right for 256-bit random values.
func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// shortPrefix is the part of a secret shown in lists so its owner can recognise it.
func shortPrefix(s string) string {
	if len(s) > 10 {
		return s[:10]
	}
	return s
}
