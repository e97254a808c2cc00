package mockcore

import (
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
)

var t0 = time.Unix(0x6660A1B2, 0)

func TestTicketShape(t *testing.T) {
	s := NewTicketSigner()
	alice := auth.MustParseUserid("alice@pve")
	pve := s.Mint(auth.PVE, alice, t0)
	assert.Regexp(t, `^PVE:alice@pve:6660A1B2::[A-Za-z0-9+/]+={0,2}$`, pve)
	assert.True(t, strings.HasSuffix(pve, "="), "PVE signatures are padded like real RSA ones: %s", pve)
	pbs := s.Mint(auth.PBS, auth.MustParseUserid("root@pam"), t0)
	assert.Regexp(t, `^PBS:root@pam:6660A1B2::[A-Za-z0-9+/]+$`, pbs)
	// Both forms have the layout auth's client code parses.
	for _, tk := range []string{pve, pbs} {
		parts := strings.SplitN(tk, ":", 4)
		require.Len(t, parts, 4)
		assert.Len(t, parts[2], 8)
	}
	assert.True(t, LooksLikeTicket(auth.PVE, pve))
	assert.False(t, LooksLikeTicket(auth.PBS, pve))
	assert.False(t, LooksLikeTicket(auth.PVE, "secret password"))
}

func TestTicketVerifyWindow(t *testing.T) {
	s := NewTicketSigner()
	for _, p := range []auth.Product{auth.PVE, auth.PBS} {
		u := auth.MustParseUserid("bob@" + strings.ToLower(p.String()))
		tk := s.Mint(p, u, t0)
		tests := []struct {
			name  string
			now   time.Time
			cause error
		}{
			{"at issue", t0, nil},
			{"one hour later", t0.Add(time.Hour), nil},
			{"last valid second", t0.Add(TicketLifetime), nil},
			{"expired", t0.Add(TicketLifetime + time.Second), ErrTicketExpired},
			{"five minutes early", t0.Add(-TicketFutureSkew), nil},
			{"too early", t0.Add(-TicketFutureSkew - time.Second), ErrTicketFromFuture},
		}
		for _, tc := range tests {
			t.Run(p.String()+" "+tc.name, func(t *testing.T) {
				got, err := s.Verify(p, tk, tc.now)
				if tc.cause == nil {
					require.NoError(t, err)
					assert.Equal(t, u, got)
					return
				}
				assert.ErrorIs(t, err, tc.cause)
				assert.ErrorIs(t, err, ErrInvalidTicket)
			})
		}
	}
}

func TestTicketVerifyRejects(t *testing.T) {
	s := NewTicketSigner()
	other := NewTicketSigner()
	u := auth.MustParseUserid("alice@pbs")
	good := s.Mint(auth.PBS, u, t0)
	parts := strings.SplitN(good, ":", 4)
	sig := parts[3][1:]
	flip := func(str string, i int) string {
		b := []byte(str)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	tests := map[string]string{
		"other signer":         other.Mint(auth.PBS, u, t0),
		"other product":        s.Mint(auth.PVE, u, t0),
		"user changed":         "PBS:root@pam:" + parts[2] + "::" + sig,
		"time changed":         "PBS:alice@pbs:6660A1B3::" + sig,
		"signature flipped":    "PBS:alice@pbs:" + parts[2] + "::" + flip(sig, 3),
		"padded PBS signature": good + "=",
		"empty":                "",
		"prefix only":          "PBS",
		"three parts":          "PBS:alice@pbs:6660A1B2",
		"missing double colon": "PBS:alice@pbs:6660A1B2:" + sig,
		"bad hex time":         "PBS:alice@pbs:XYZ::" + sig,
		"signed hex time":      "PBS:alice@pbs:-6660A1B2::" + sig,
		"huge hex time":        "PBS:alice@pbs:FFFFFFFFFFFFFFFFF::" + sig,
		"bad base64":           "PBS:alice@pbs:" + parts[2] + "::***",
		"lower-case prefix":    "pbs" + good[3:],
		"tfa partial data":     "PBS:!tfa!{}:" + parts[2] + "::" + sig,
	}
	for name, tk := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := s.Verify(auth.PBS, tk, t0)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidTicket)
			var te *TicketError
			require.ErrorAs(t, err, &te)
			if len(sig) > 10 {
				assert.NotContains(t, err.Error(), sig, "ticket leaked into error")
			}
		})
	}
}

func TestTicketPVEAcceptsUnpaddedSignature(t *testing.T) {
	s := NewTicketSigner()
	u := auth.MustParseUserid("alice@pve")
	tk := strings.TrimRight(s.Mint(auth.PVE, u, t0), "=")
	got, err := s.Verify(auth.PVE, tk, t0)
	require.NoError(t, err)
	assert.Equal(t, u, got)
}

func TestTicketPBSPercentEncodedData(t *testing.T) {
	// PBS percent-decodes the data field; a ticket whose user id was
	// encoded by another implementation still names the same user, but the
	// signature covers the encoded text, so re-encoding breaks it.
	s := NewTicketSigner()
	tk := s.Mint(auth.PBS, auth.MustParseUserid("alice@pbs"), t0)
	_, err := s.Verify(auth.PBS, strings.Replace(tk, "alice@pbs", "alice%40pbs", 1), t0)
	assert.ErrorIs(t, err, ErrInvalidTicket)
}

func TestTicketRenewal(t *testing.T) {
	// A mock's POST /access/ticket renews by verifying the posted ticket
	// and minting a new one at the current time.
	s := NewTicketSigner()
	clock := NewFakeClock(t0)
	u := auth.MustParseUserid("alice@pve")
	first := s.Mint(auth.PVE, u, clock.Now())
	clock.Advance(TicketLifetime - time.Minute)
	require.True(t, LooksLikeTicket(auth.PVE, first))
	got, err := s.Verify(auth.PVE, first, clock.Now())
	require.NoError(t, err)
	second := s.Mint(auth.PVE, got, clock.Now())
	clock.Advance(2 * time.Minute)
	_, err = s.Verify(auth.PVE, first, clock.Now())
	assert.ErrorIs(t, err, ErrTicketExpired)
	_, err = s.Verify(auth.PVE, second, clock.Now())
	assert.NoError(t, err)
}

func TestCSRFToken(t *testing.T) {
	s := NewTicketSigner()
	alice := auth.MustParseUserid("alice@pbs")
	tok := s.CSRFToken(alice, t0)
	assert.Regexp(t, regexp.MustCompile(`^6660A1B2:[A-Za-z0-9+/]{43}$`), tok)

	require.NoError(t, s.VerifyCSRF(alice, tok, t0))
	require.NoError(t, s.VerifyCSRF(alice, tok, t0.Add(TicketLifetime)))
	assert.ErrorIs(t, s.VerifyCSRF(alice, tok, t0.Add(TicketLifetime+time.Second)), ErrTicketExpired)
	assert.ErrorIs(t, s.VerifyCSRF(alice, tok, t0.Add(-TicketFutureSkew-time.Second)), ErrTicketFromFuture)

	bob := auth.MustParseUserid("bob@pbs")
	assert.ErrorIs(t, s.VerifyCSRF(bob, tok, t0), ErrInvalidTicket, "bound to the user id")
	assert.ErrorIs(t, NewTicketSigner().VerifyCSRF(alice, tok, t0), ErrInvalidTicket, "other server")

	ts, sig, _ := strings.Cut(tok, ":")
	raw, err := base64.RawStdEncoding.DecodeString(sig)
	require.NoError(t, err)
	for name, bad := range map[string]string{
		"empty":          "",
		"no colon":       ts + sig,
		"two colons":     tok + ":x",
		"padded":         tok + "=",
		"bad base64":     ts + ":***",
		"bad time":       "XYZ:" + sig,
		"other time":     "6660A1B3:" + sig,
		"truncated sig":  ts + ":" + base64.RawStdEncoding.EncodeToString(raw[:16]),
		"ticket instead": s.Mint(auth.PBS, alice, t0),
	} {
		assert.ErrorIs(t, s.VerifyCSRF(alice, bad, t0), ErrInvalidTicket, name)
	}
	// Leading zeros in the timestamp still verify (the server re-renders
	// the time with %08X before checking the signature).
	assert.NoError(t, s.VerifyCSRF(alice, "00"+tok, t0))
}
