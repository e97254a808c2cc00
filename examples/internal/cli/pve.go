package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/pve"
)

// PVEFlags are the --url, --authid and --fingerprint flags of a PVE program.
type PVEFlags struct {
	url         string
	authid      string
	fingerprint *string
}

// AddPVEFlags registers --url, --authid and --fingerprint on fs.
func AddPVEFlags(fs *flag.FlagSet) *PVEFlags {
	f := &PVEFlags{fingerprint: new(string)}
	f.register(fs)
	fs.StringVar(f.fingerprint, "fingerprint", "", "expected server certificate SHA-256 fingerprint (default $"+auth.EnvPVEFingerprint+")")
	return f
}

func (f *PVEFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.url, "url", "", "PVE base URL https://host[:port] (default $"+auth.EnvPVEURL+")")
	fs.StringVar(&f.authid, "authid", "", "PVE user or API token id (default $"+auth.EnvPVEAuthID+")")
}

// given reports whether --url was set.
func (f *PVEFlags) given() bool { return f.url != "" }

// PVE is where a PVE program connects and how it authenticates.
type PVE struct {
	// BaseURL is "https://host:port".
	BaseURL string
	// AuthID is the user or API token id.
	AuthID auth.Authid
	// Secret is the password or API token secret (PVE_PASSWORD family).
	Secret auth.Secret
	// SecretFrom names the variable the secret came from, "" if none.
	SecretFrom string
	// Fingerprint pins the server certificate; nil verifies it against
	// the system roots.
	Fingerprint *auth.Fingerprint
}

// Load combines the flags with PVE_URL, PVE_AUTHID, the PVE_PASSWORD
// family and PVE_FINGERPRINT; a flag wins over its variable. URL and auth id
// are required. The secret is registered with app for redaction.
func (f *PVEFlags) Load(ctx context.Context, app *App) (*PVE, error) {
	env, err := auth.LoadPVEEnvironment(ctx, overridden(app.lookup(), map[string]string{
		auth.EnvPVEURL:         f.url,
		auth.EnvPVEAuthID:      f.authid,
		auth.EnvPVEFingerprint: *f.fingerprint,
	}))
	if err != nil {
		return nil, err
	}
	if f.url != "" {
		u, err := auth.ParseBaseURL(f.url, auth.PVE)
		if err != nil {
			return nil, fmt.Errorf("--url: %w", err)
		}
		env.BaseURL = u
	}
	if f.authid != "" {
		id, err := auth.ParseAuthid(f.authid)
		if err != nil {
			return nil, fmt.Errorf("--authid: %w", err)
		}
		env.AuthID = id
	}
	if *f.fingerprint != "" {
		fp, err := auth.ParseFingerprint(*f.fingerprint)
		if err != nil {
			return nil, fmt.Errorf("--fingerprint: %w", err)
		}
		env.Fingerprint = &fp
	}
	if env.BaseURL == "" {
		return nil, errors.New("no PVE server: give --url or set " + auth.EnvPVEURL)
	}
	if env.AuthID.IsZero() {
		return nil, errors.New("no PVE auth id: give --authid or set " + auth.EnvPVEAuthID)
	}
	app.Redact(env.Secret)
	return &PVE{
		BaseURL:     env.BaseURL,
		AuthID:      env.AuthID,
		Secret:      env.Secret,
		SecretFrom:  env.SecretFrom,
		Fingerprint: env.Fingerprint,
	}, nil
}

// Credentials returns an API token when the auth id is a token id, else
// password (ticket) credentials. A missing secret is an error naming the
// variables to set.
func (p *PVE) Credentials() (auth.Credentials, error) {
	env := auth.PVEEnvironment{BaseURL: p.BaseURL, AuthID: p.AuthID, Secret: p.Secret, SecretFrom: p.SecretFrom}
	return env.Credentials()
}

// Client returns a client for the PVE server with the credentials and the
// pinned fingerprint; opts come last and may add to them.
func (p *PVE) Client(opts ...pve.Option) (*pve.Client, error) {
	creds, err := p.Credentials()
	if err != nil {
		return nil, err
	}
	all := []pve.Option{pve.WithCredentials(creds), pve.WithUserAgent(userAgent)}
	if p.Fingerprint != nil {
		all = append(all, pve.WithFingerprint(*p.Fingerprint))
	}
	return pve.NewClient(p.BaseURL, append(all, opts...)...)
}
