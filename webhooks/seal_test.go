package webhooks_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/feedbackloop/feedbackloop/webhooks"
)

// Sealed secrets do not show in storage and open only with their key;
// secrets stored without a key still open once one is set.
func TestSealedSecretsOpenWithTheirKeyOnly(t *testing.T) {
	key := strings.Repeat("k", webhooks.MinKeyLength)
	s, err := webhooks.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	secret := mustSecret(t)
	stored, err := s.Seal(secret)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := s.Seal(secret)
	if strings.Contains(stored, strings.TrimPrefix(secret, "whsec_")) || stored == again {
		t.Fatalf("sealed %q as %q and %q", secret, stored, again)
	}
	if got, err := s.Open(stored); err != nil || got != secret {
		t.Fatalf("Open = %q, %v", got, err)
	}
	other, _ := webhooks.NewSealer(strings.Repeat("x", webhooks.MinKeyLength))
	var none *webhooks.Sealer
	for name, o := range map[string]*webhooks.Sealer{"another key": other, "no key": none} {
		if _, err := o.Open(stored); !errors.Is(err, webhooks.ErrCannotOpen) {
			t.Errorf("%s opened a sealed secret: %v", name, err)
		}
	}
	if got, err := s.Open(secret); err != nil || got != secret {
		t.Errorf("a secret stored before the key: %q, %v", got, err)
	}
	if _, err := webhooks.NewSealer("short"); err == nil {
		t.Error("a short key was accepted")
	}
	if n, err := webhooks.NewSealer(""); n != nil || err != nil {
		t.Error("no key is not a nil Sealer")
	}
}
