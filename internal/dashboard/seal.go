package dashboard

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// MinSecretBytes is the shortest session secret accepted: 256 bits.
const MinSecretBytes = 32

// errUnsealable is every reason a cookie cannot be opened (tampered, sealed
// with a retired key, or for another cookie name). Callers treat them all as
// "no cookie": the reason is never shown to the browser.
var errUnsealable = errors.New("cookie cannot be opened")

// sealer encrypts and authenticates cookie values with AES-256-GCM. The
// cookie name is the additional data, so a value sealed for one cookie (the
// OAuth state) is useless under another (the session). The first key seals;
// every key opens, so secrets can be rotated without signing everybody out.
type sealer struct {
	aeads []cipher.AEAD
}

func newSealer(secrets [][]byte) (*sealer, error) {
	if len(secrets) == 0 {
		return nil, errors.New("a session secret is required")
	}
	s := &sealer{}
	for i, secret := range secrets {
		if len(secret) < MinSecretBytes {
			return nil, fmt.Errorf("session secret %d is %d bytes; at least %d are required", i+1, len(secret), MinSecretBytes)
		}
		// Derive the cookie key rather than use the operator's secret
		// directly: the same secret then never keys two algorithms.
		key, err := hkdf.Key(sha256.New, secret, nil, "jetway dashboard cookies v1", 32)
		if err != nil {
			return nil, fmt.Errorf("derive cookie key: %w", err)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		s.aeads = append(s.aeads, aead)
	}
	return s, nil
}

// seal encodes v as JSON, encrypts it for the cookie called name and
// returns URL-safe text fit for a cookie value.
func (s *sealer) seal(name string, v any) (string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode cookie %s: %w", name, err)
	}
	aead := s.aeads[0]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("cookie nonce: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, plain, []byte(name))), nil
}

// open reverses seal into v.
func (s *sealer) open(name, value string, v any) error {
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil {
		return errUnsealable
	}
	for _, aead := range s.aeads {
		if len(raw) < aead.NonceSize()+aead.Overhead() {
			return errUnsealable
		}
		plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(name))
		if err != nil {
			continue
		}
		if err := json.Unmarshal(plain, v); err != nil {
			return errUnsealable
		}
		return nil
	}
	return errUnsealable
}
