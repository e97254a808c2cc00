package pbs

import (
	"errors"
	"fmt"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/datastore"
)

// Target is what a repository or pbs-config.json points a client at
// besides the server: the datastore and namespace to work in.
type Target struct {
	// Datastore is the datastore name ("" for clients from NewClient).
	Datastore string
	// Namespace is the namespace, the root namespace when unset.
	Namespace datastore.Namespace
}

// NewClientFromRepository returns a client for the server of repository r
// (a parsed proxmox-backup-client repository string), authenticated as
// its auth id with secret: an API token secret for token ids, a password
// (ticket login) for user ids. Target().Datastore is the repository's
// datastore. opts are applied after the derived ones, so they can add or
// override settings (a fingerprint, a logger).
func NewClientFromRepository(r auth.Repository, secret auth.Secret, opts ...Option) (*Client, error) {
	env := &auth.PBSEnvironment{Repository: &r, Secret: secret}
	return NewClientFromEnvironment(env, opts...)
}

// NewClientFromEnvironment returns a client as proxmox-backup-client
// configures itself from PBS_REPOSITORY, PBS_PASSWORD (or its _FD, _FILE,
// _CMD variants) and PBS_FINGERPRINT, loaded with auth.LoadPBSEnvironment.
// The repository is required; a missing secret fails here, not on the
// first request. opts are applied after the derived ones.
func NewClientFromEnvironment(env *auth.PBSEnvironment, opts ...Option) (*Client, error) {
	if env == nil || env.Repository == nil {
		return nil, fmt.Errorf("pbs: no repository (set %s): %w", auth.EnvPBSRepository, ErrInvalidRequest)
	}
	creds, err := env.Credentials()
	if err != nil {
		return nil, fmt.Errorf("pbs: %w", err)
	}
	return newTargetClient(env.Repository.BaseURL(), creds, env.Fingerprint, Target{Datastore: env.Repository.Datastore}, opts)
}

// NewClientFromConfig returns a client for a pbs-config.json as hosting
// providers hand it out (auth.ReadPBSConfig): base URL, auth id and
// secret, the optional fingerprint, and datastore and namespace as
// Target(). opts are applied after the derived ones.
func NewClientFromConfig(cfg *auth.PBSConfig, opts ...Option) (*Client, error) {
	if cfg == nil {
		return nil, errors.New("pbs: NewClientFromConfig: nil config")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("pbs: %w", err)
	}
	ns, err := datastore.ParseNamespace(cfg.Namespace)
	if err != nil {
		return nil, fmt.Errorf("pbs: config namespace: %w", err)
	}
	creds, err := cfg.Credentials()
	if err != nil {
		return nil, fmt.Errorf("pbs: %w", err)
	}
	return newTargetClient(cfg.BaseURL, creds, cfg.Fingerprint, Target{Datastore: cfg.Datastore, Namespace: ns}, opts)
}

// newTargetClient is NewClient with creds, the pinned fingerprint fp (if
// any) and then opts, for target.
func newTargetClient(baseURL string, creds auth.Credentials, fp *auth.Fingerprint, target Target, opts []Option) (*Client, error) {
	base := []Option{WithCredentials(creds)}
	if fp != nil {
		base = append(base, WithFingerprint(*fp))
	}
	c, err := NewClient(baseURL, append(base, opts...)...)
	if err != nil {
		return nil, err
	}
	c.target = target
	return c, nil
}

// Target returns the datastore and namespace of the repository or config
// the client was built from (zero for NewClient).
func (c *Client) Target() Target { return c.target }
