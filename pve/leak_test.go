package pve_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/pve"
)

// renderings returns every way an error ends up in front of people: its
// text, fmt's verbs, the chain's texts and the *pve.Error fields.
func renderings(err error) []string {
	if err == nil {
		return nil
	}
	out := []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)}
	for e := err; e != nil; e = errors.Unwrap(e) {
		out = append(out, e.Error())
	}
	var pe *pve.Error
	if errors.As(err, &pe) {
		out = append(out, pe.Message, pe.Hint, pe.Path, fmt.Sprint(pe.Errors))
	}
	return out
}

// No error string and no log record of a failing run contains a secret:
// wrong, expired, forbidden and revoked tokens, a refused password, a
// pinned fingerprint that does not match, and the printed token itself.
func TestSecretsNeverInErrorsOrLogs(t *testing.T) {
	e := newEnv(t, withPasswords()...)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	with := func(opts ...pve.Option) *pve.Client {
		return e.client(append([]pve.Option{pve.WithLogger(logger)}, opts...)...)
	}
	password := "correct-horse-battery"
	e.mkUser("leak@pve", &pve.UserOptions{Password: auth.NewSecret(password)})
	tok := e.mkToken("leak@pve!ci", &pve.TokenOptions{Expire: epoch.Add(time.Hour)})
	secrets := []string{tok.Secret.Reveal(), password, e.srv.AdminToken.Secret.Reveal()}

	var errs []error
	record := func(err error) {
		require.Error(t, err)
		errs = append(errs, err)
	}
	wrong := auth.NewSecret(strings.Replace(tok.Secret.Reveal(), tok.Secret.Reveal()[:8], "deadbeef", 1))
	secrets = append(secrets, wrong.Reveal())
	_, err := with(pve.WithToken(tok.ID, wrong)).Version(ctx(t))
	record(err)

	c := with(pve.WithCredentials(tok.Credentials()))
	_, err = c.Access.ListACL(ctx(t))
	require.NoError(t, err)
	record(c.Access.Grant(ctx(t), pve.ACLChange{Path: "/", Roles: []string{"Administrator"}, Users: []auth.Userid{uid("leak@pve")}}))
	_, err = c.Access.CreateToken(ctx(t), aid("leak@pve!more"), nil)
	record(err)
	e.clock.Advance(2 * time.Hour)
	_, err = c.Version(ctx(t))
	record(err)

	ticket, err := auth.NewTicketCredentials(uid("leak@pve"), auth.NewSecret(password+"x"))
	require.NoError(t, err)
	secrets = append(secrets, password+"x")
	_, err = with(pve.WithCredentials(ticket)).Version(ctx(t))
	record(err)

	admin := with(pve.WithCredentials(e.srv.AdminToken))
	record(admin.Access.CreateUser(ctx(t), uid("leak@pve"), &pve.UserOptions{Password: auth.NewSecret(password)}))
	record(admin.Access.CreateUser(ctx(t), uid("other@pve"), &pve.UserOptions{Password: auth.NewSecret("2short")}))
	secrets = append(secrets, "2short")
	regen, err := admin.Access.RegenerateToken(ctx(t), tok.ID)
	require.NoError(t, err)
	secrets = append(secrets, regen.Secret.Reveal())
	_, err = with(pve.WithCredentials(tok.Credentials())).Version(ctx(t))
	record(err)

	other := auth.MustParseFingerprint(strings.Repeat("ab", 32))
	bad, err := pve.NewClient(e.srv.URL, pve.WithFingerprint(other), pve.WithCredentials(regen.Credentials()),
		pve.WithLogger(logger), pve.WithRetryPolicy(pve.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	_, err = bad.Version(ctx(t))
	record(err)

	var texts []string
	for _, err := range errs {
		texts = append(texts, renderings(err)...)
	}
	printed, err := json.Marshal(regen)
	require.NoError(t, err)
	texts = append(texts, string(printed), fmt.Sprintf("%v %+v %#v", regen, regen, *regen), fmt.Sprint(regen.Credentials()),
		logs.String(), e.log.String())
	require.NotEmpty(t, logs.String(), "the runs were logged")
	for _, s := range secrets {
		for _, text := range texts {
			assert.NotContains(t, text, s)
		}
	}
	for i, err := range errs[:len(errs)-1] {
		var pe *pve.Error
		var le *auth.LoginError
		assert.True(t, errors.As(err, &pe) || errors.As(err, &le), "run %d: a typed refusal: %v", i, err)
	}
	var fm *auth.FingerprintMismatchError
	assert.ErrorAs(t, errs[len(errs)-1], &fm)
}
