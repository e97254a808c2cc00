package auth

import (
	"context"
	"os"
)

// Environment variable names. The PBS ones are those of
// proxmox-backup-client; the PVE ones follow the same pattern.
const (
	EnvPBSRepository  = "PBS_REPOSITORY"
	EnvPBSPassword    = "PBS_PASSWORD"
	EnvPBSFingerprint = "PBS_FINGERPRINT"
	EnvPVEURL         = "PVE_URL"
	EnvPVEAuthID      = "PVE_AUTHID"
	EnvPVEPassword    = "PVE_PASSWORD"
	EnvPVEFingerprint = "PVE_FINGERPRINT"
)

// PBSEnvironment is what proxmox-backup-client takes from the environment.
type PBSEnvironment struct {
	// Repository from PBS_REPOSITORY; nil when unset.
	Repository *Repository
	// Secret is the password or API token secret from PBS_PASSWORD or its
	// _FD, _FILE, _CMD variants (see SecretFromEnv).
	Secret Secret
	// SecretFrom names the variable the secret came from, "" if none.
	SecretFrom string
	// Fingerprint from PBS_FINGERPRINT; nil when unset.
	Fingerprint *Fingerprint
}

// LoadPBSEnvironment reads PBS_REPOSITORY, the PBS_PASSWORD family and
// PBS_FINGERPRINT through lookup (nil: os.LookupEnv). Unset variables are
// not errors; malformed ones are (*EnvError, *ParseError).
func LoadPBSEnvironment(ctx context.Context, lookup LookupEnv) (*PBSEnvironment, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	env := &PBSEnvironment{}
	if v, ok := lookup(EnvPBSRepository); ok {
		r, err := ParseRepository(v)
		if err != nil {
			return nil, &EnvError{Var: EnvPBSRepository, Reason: "invalid value", Err: err}
		}
		env.Repository = &r
	}
	fp, err := fingerprintFromEnv(lookup, EnvPBSFingerprint)
	if err != nil {
		return nil, err
	}
	env.Fingerprint = fp
	env.Secret, env.SecretFrom, err = SecretFromEnv(ctx, lookup, EnvPBSPassword)
	if err != nil {
		return nil, err
	}
	return env, nil
}

// Credentials returns an API token when the repository's auth id is a
// token, ticket credentials otherwise. A missing secret is an error
// (*MissingSecretError): "API token secret must be provided" for tokens.
func (e *PBSEnvironment) Credentials(opts ...TicketOption) (Credentials, error) {
	if e.Repository == nil {
		return nil, &EnvError{Var: EnvPBSRepository, Reason: "not set"}
	}
	return credentialsFor(e.Repository.EffectiveAuthID(), e.Secret, "set "+EnvPBSPassword+" or "+EnvPBSPassword+"_FD, _FILE, _CMD", opts)
}

// Endpoint returns the endpoint of the repository's server with client.
func (e *PBSEnvironment) Endpoint(client Doer) (Endpoint, error) {
	if e.Repository == nil {
		return Endpoint{}, &EnvError{Var: EnvPBSRepository, Reason: "not set"}
	}
	return Endpoint{Product: PBS, BaseURL: e.Repository.BaseURL(), Client: client}, nil
}

// PVEEnvironment holds the PVE settings read from the environment.
type PVEEnvironment struct {
	// BaseURL from PVE_URL, normalised to https://host:port; "" when unset.
	BaseURL string
	// AuthID from PVE_AUTHID; zero when unset.
	AuthID Authid
	// Secret from PVE_PASSWORD or its _FD, _FILE, _CMD variants.
	Secret Secret
	// SecretFrom names the variable the secret came from, "" if none.
	SecretFrom string
	// Fingerprint from PVE_FINGERPRINT; nil when unset.
	Fingerprint *Fingerprint
}

// LoadPVEEnvironment reads PVE_URL, PVE_AUTHID, the PVE_PASSWORD family and
// PVE_FINGERPRINT through lookup (nil: os.LookupEnv), with the same rules as
// LoadPBSEnvironment.
func LoadPVEEnvironment(ctx context.Context, lookup LookupEnv) (*PVEEnvironment, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	env := &PVEEnvironment{}
	if v, ok := lookup(EnvPVEURL); ok {
		u, err := ParseBaseURL(v, PVE)
		if err != nil {
			return nil, &EnvError{Var: EnvPVEURL, Reason: "invalid value", Err: err}
		}
		env.BaseURL = u
	}
	if v, ok := lookup(EnvPVEAuthID); ok {
		a, err := ParseAuthid(v)
		if err != nil {
			return nil, &EnvError{Var: EnvPVEAuthID, Reason: "invalid value", Err: err}
		}
		env.AuthID = a
	}
	fp, err := fingerprintFromEnv(lookup, EnvPVEFingerprint)
	if err != nil {
		return nil, err
	}
	env.Fingerprint = fp
	env.Secret, env.SecretFrom, err = SecretFromEnv(ctx, lookup, EnvPVEPassword)
	if err != nil {
		return nil, err
	}
	return env, nil
}

// Credentials returns an API token when PVE_AUTHID is a token id, ticket
// credentials otherwise.
func (e *PVEEnvironment) Credentials(opts ...TicketOption) (Credentials, error) {
	if e.AuthID.IsZero() {
		return nil, &EnvError{Var: EnvPVEAuthID, Reason: "not set"}
	}
	return credentialsFor(e.AuthID, e.Secret, "set "+EnvPVEPassword+" or "+EnvPVEPassword+"_FD, _FILE, _CMD", opts)
}

// Endpoint returns the endpoint of PVE_URL with client.
func (e *PVEEnvironment) Endpoint(client Doer) (Endpoint, error) {
	if e.BaseURL == "" {
		return Endpoint{}, &EnvError{Var: EnvPVEURL, Reason: "not set"}
	}
	return Endpoint{Product: PVE, BaseURL: e.BaseURL, Client: client}, nil
}

func fingerprintFromEnv(lookup LookupEnv, name string) (*Fingerprint, error) {
	v, ok := lookup(name)
	if !ok {
		return nil, nil
	}
	fp, err := ParseFingerprint(v)
	if err != nil {
		return nil, &EnvError{Var: name, Reason: "invalid value", Err: err}
	}
	return &fp, nil
}

// credentialsFor picks token or ticket credentials for id.
func credentialsFor(id Authid, secret Secret, where string, opts []TicketOption) (Credentials, error) {
	if secret.IsZero() {
		return nil, &MissingSecretError{AuthID: id, Token: id.IsToken(), Where: where}
	}
	if id.IsToken() {
		return NewToken(id, secret)
	}
	return NewTicketCredentials(id.User(), secret, opts...)
}
