package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/pbs"
)

// userAgent identifies the example programs to the servers.
const userAgent = "proxkit-examples"

// PBSFlags are the --repository and --fingerprint flags of a PBS program.
type PBSFlags struct {
	repository  string
	fingerprint *string
}

// AddPBSFlags registers --repository and --fingerprint on fs.
func AddPBSFlags(fs *flag.FlagSet) *PBSFlags {
	f := &PBSFlags{fingerprint: new(string)}
	f.register(fs)
	fs.StringVar(f.fingerprint, "fingerprint", "", "expected server certificate SHA-256 fingerprint (default $"+auth.EnvPBSFingerprint+")")
	return f
}

func (f *PBSFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.repository, "repository", "", "repository [[auth-id@]host[:port]:]datastore (default $"+auth.EnvPBSRepository+")")
}

// given reports whether --repository was set.
func (f *PBSFlags) given() bool { return f.repository != "" }

// PBS is where a PBS program connects and how it authenticates.
type PBS struct {
	// Repository names the auth id, server and datastore.
	Repository auth.Repository
	// Secret is the password or API token secret (PBS_PASSWORD family).
	Secret auth.Secret
	// SecretFrom names the variable the secret came from, "" if none.
	SecretFrom string
	// Fingerprint pins the server certificate; nil verifies it against
	// the system roots.
	Fingerprint *auth.Fingerprint
}

// Load combines the flags with the environment as proxmox-backup-client
// does: a flag wins over its variable (which is then not even parsed), the
// secret always comes from the PBS_PASSWORD family. A repository is
// required. The secret is registered with app for redaction.
func (f *PBSFlags) Load(ctx context.Context, app *App) (*PBS, error) {
	env, err := auth.LoadPBSEnvironment(ctx, overridden(app.lookup(), map[string]string{
		auth.EnvPBSRepository:  f.repository,
		auth.EnvPBSFingerprint: *f.fingerprint,
	}))
	if err != nil {
		return nil, err
	}
	if f.repository != "" {
		r, err := auth.ParseRepository(f.repository)
		if err != nil {
			return nil, fmt.Errorf("--repository: %w", err)
		}
		env.Repository = &r
	}
	if env.Repository == nil {
		return nil, errors.New("no repository: give --repository or set " + auth.EnvPBSRepository)
	}
	if *f.fingerprint != "" {
		fp, err := auth.ParseFingerprint(*f.fingerprint)
		if err != nil {
			return nil, fmt.Errorf("--fingerprint: %w", err)
		}
		env.Fingerprint = &fp
	}
	app.Redact(env.Secret)
	return &PBS{
		Repository:  *env.Repository,
		Secret:      env.Secret,
		SecretFrom:  env.SecretFrom,
		Fingerprint: env.Fingerprint,
	}, nil
}

// Connect is Load, then a client for the repository's server (PBS.Client
// with opts).
func (f *PBSFlags) Connect(ctx context.Context, app *App, opts ...pbs.Option) (*PBS, *pbs.Client, error) {
	target, err := f.Load(ctx, app)
	if err != nil {
		return nil, nil, err
	}
	client, err := target.Client(opts...)
	if err != nil {
		return nil, nil, err
	}
	return target, client, nil
}

// Environment is p as the auth.PBSEnvironment it was read from.
func (p *PBS) Environment() *auth.PBSEnvironment {
	r := p.Repository
	return &auth.PBSEnvironment{Repository: &r, Secret: p.Secret, SecretFrom: p.SecretFrom, Fingerprint: p.Fingerprint}
}

// Credentials returns an API token when the repository's auth id is a
// token, else password (ticket) credentials. A missing secret is an error
// naming the variables to set.
func (p *PBS) Credentials() (auth.Credentials, error) {
	return p.Environment().Credentials()
}

// Client returns a client for the repository's server with the
// credentials and the pinned fingerprint (pbs.NewClientFromEnvironment);
// opts come last and may add to them.
func (p *PBS) Client(opts ...pbs.Option) (*pbs.Client, error) {
	return pbs.NewClientFromEnvironment(p.Environment(), append([]pbs.Option{pbs.WithUserAgent(userAgent)}, opts...)...)
}

// Datastore is the repository's datastore name.
func (p *PBS) Datastore() string { return p.Repository.Datastore }

// overridden returns lookup without the variables whose flag (the value
// in flags) was given: the flag replaces the variable, which is then not
// even read.
func overridden(lookup auth.LookupEnv, flags map[string]string) auth.LookupEnv {
	return func(key string) (string, bool) {
		if flags[key] != "" {
			return "", false
		}
		return lookup(key)
	}
}
