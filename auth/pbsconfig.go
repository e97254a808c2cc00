package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// PBSConfig is the pbs-config.json that hosting providers hand out for a
// rented datastore:
//
//	{"baseurl": "https://pbs.example.com:8007", "authid": "user@pbs!client",
//	 "secret": "…", "datastore": "store1",
//	 "fingerprint": "ab:cd:…", "namespace": "customer/host1"}
//
// fingerprint and namespace are optional. String, GoString, fmt verbs and
// json.Marshal never show the secret (json.Marshal writes "[redacted]";
// WritePBSConfig writes the real value).
type PBSConfig struct {
	BaseURL     string       `json:"baseurl"`               // https://host[:port], normalised by ParsePBSConfig
	AuthID      Authid       `json:"authid"`                // user or API token id
	Secret      Secret       `json:"secret"`                // password or API token secret
	Datastore   string       `json:"datastore"`             // datastore name
	Fingerprint *Fingerprint `json:"fingerprint,omitempty"` // pinned certificate, optional
	Namespace   string       `json:"namespace,omitempty"`   // "a/b/c", "" for the root namespace
}

// pbsConfigFile is the on-disk shape, holding the secret in clear text.
type pbsConfigFile struct {
	BaseURL     *string `json:"baseurl"`
	AuthID      *string `json:"authid"`
	Secret      *string `json:"secret"`
	Datastore   *string `json:"datastore"`
	Fingerprint *string `json:"fingerprint,omitempty"`
	Namespace   *string `json:"namespace,omitempty"`
}

// ConfigError reports an invalid pbs-config.json: the file (if known), the
// field and what is wrong, never the secret. It matches ErrInvalidConfig
// and unwraps to the underlying error.
type ConfigError struct {
	Path   string // file name, "" when parsing bytes
	Field  string // JSON field name, "" for the document as a whole
	Reason string
	Err    error
}

// Error implements error.
func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("pbs-config")
	if e.Path != "" {
		b.WriteString(" " + e.Path)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": field %q", e.Field)
	}
	b.WriteString(": " + e.Reason)
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalidConfig) true.
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

// Unwrap returns the underlying error.
func (e *ConfigError) Unwrap() error { return e.Err }

// maxPBSConfigSize bounds what ReadPBSConfig reads.
const maxPBSConfigSize = 1 << 20

// ReadPBSConfig reads and validates a pbs-config.json file.
func ReadPBSConfig(path string) (*PBSConfig, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &ConfigError{Path: path, Reason: "cannot open", Err: err}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPBSConfigSize+1))
	if err != nil {
		return nil, &ConfigError{Path: path, Reason: "cannot read", Err: err}
	}
	if len(data) > maxPBSConfigSize {
		return nil, &ConfigError{Path: path, Reason: "larger than 1 MiB"}
	}
	cfg, err := ParsePBSConfig(data)
	if err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			ce.Path = path
		}
		return nil, err
	}
	return cfg, nil
}

// ParsePBSConfig parses and validates pbs-config.json content. Unknown
// fields are ignored; the base URL is normalised to https://host:port.
func ParsePBSConfig(data []byte) (*PBSConfig, error) {
	var raw pbsConfigFile
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, &ConfigError{Field: strings.TrimPrefix(te.Field, "."), Reason: "must be a string, not a JSON " + te.Value}
		}
		return nil, &ConfigError{Reason: "not a JSON object with string fields", Err: scrubJSONError(err)}
	}
	if dec.More() {
		return nil, &ConfigError{Reason: "trailing data after the JSON object"}
	}
	req := func(name string, v *string) (string, error) {
		if v == nil {
			return "", &ConfigError{Field: name, Reason: "missing"}
		}
		if *v == "" {
			return "", &ConfigError{Field: name, Reason: "empty"}
		}
		return *v, nil
	}
	var cfg PBSConfig
	var err error
	var s string
	if s, err = req("baseurl", raw.BaseURL); err != nil {
		return nil, err
	}
	cfg.BaseURL = s
	if s, err = req("authid", raw.AuthID); err != nil {
		return nil, err
	}
	if cfg.AuthID, err = ParseAuthid(s); err != nil {
		return nil, &ConfigError{Field: "authid", Reason: "invalid auth id", Err: err}
	}
	if s, err = req("secret", raw.Secret); err != nil {
		return nil, err
	}
	cfg.Secret = NewSecret(s)
	if s, err = req("datastore", raw.Datastore); err != nil {
		return nil, err
	}
	cfg.Datastore = s
	if raw.Fingerprint != nil && *raw.Fingerprint != "" {
		fp, err := ParseFingerprint(*raw.Fingerprint)
		if err != nil {
			return nil, &ConfigError{Field: "fingerprint", Reason: "invalid fingerprint", Err: err}
		}
		cfg.Fingerprint = &fp
	}
	if raw.Namespace != nil {
		cfg.Namespace = *raw.Namespace
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.BaseURL, _ = ParseBaseURL(cfg.BaseURL, PBS)
	return &cfg, nil
}

// scrubJSONError keeps the kind and offset of a JSON error but drops
// anything quoting the document (which could hold the secret).
func scrubJSONError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("syntax error at byte %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Errorf("the document is a JSON %s, not an object", te.Value)
	case errors.Is(err, io.EOF):
		return errors.New("empty document")
	default:
		return errors.New("malformed JSON")
	}
}

// UnmarshalJSON parses and validates like ParsePBSConfig. Note that
// json.Marshal writes the secret as "[redacted]", which Validate rejects:
// store configs with WritePBSConfig.
func (c *PBSConfig) UnmarshalJSON(b []byte) error {
	cfg, err := ParsePBSConfig(b)
	if err != nil {
		return err
	}
	*c = *cfg
	return nil
}

// Validate checks every field; errors are *ConfigError naming the field.
func (c *PBSConfig) Validate() error {
	if _, err := ParseBaseURL(c.BaseURL, PBS); err != nil {
		return &ConfigError{Field: "baseurl", Reason: "invalid base URL", Err: err}
	}
	if c.AuthID.IsZero() {
		return &ConfigError{Field: "authid", Reason: "missing"}
	}
	if err := c.AuthID.ValidateFor(PBS); err != nil {
		return &ConfigError{Field: "authid", Reason: "invalid auth id", Err: err}
	}
	switch sec := c.Secret.Reveal(); {
	case sec == "":
		return &ConfigError{Field: "secret", Reason: "missing"}
	case sec == redacted:
		return &ConfigError{Field: "secret", Reason: "holds the redaction placeholder; the file was written with json.Marshal instead of WritePBSConfig"}
	case strings.ContainsAny(sec, "\r\n"):
		return &ConfigError{Field: "secret", Reason: "contains a line break"}
	}
	if reason := checkSafeID(c.Datastore, 3, 32); reason != "" {
		return &ConfigError{Field: "datastore", Reason: "datastore name " + reason}
	}
	if c.Fingerprint != nil && c.Fingerprint.IsZero() {
		return &ConfigError{Field: "fingerprint", Reason: "all zero"}
	}
	if reason := checkNamespace(c.Namespace); reason != "" {
		return &ConfigError{Field: "namespace", Reason: reason}
	}
	return nil
}

// maxNamespaceDepth and maxNamespaceLen are PBS's namespace limits.
const (
	maxNamespaceDepth = 7
	maxNamespaceLen   = 256
)

func checkNamespace(ns string) string {
	if ns == "" {
		return ""
	}
	if len(ns) > maxNamespaceLen {
		return fmt.Sprintf("longer than %d characters", maxNamespaceLen)
	}
	parts := strings.Split(ns, "/")
	if len(parts) > maxNamespaceDepth {
		return fmt.Sprintf("%d levels; at most %d are allowed", len(parts), maxNamespaceDepth)
	}
	for _, p := range parts {
		if p == "" {
			return "empty component (leading, trailing or doubled '/')"
		}
		if reason := checkSafeID(p, 1, -1); reason != "" {
			return "component " + reason
		}
	}
	return ""
}

// WritePBSConfig validates cfg and writes it to path with mode 0600,
// atomically: a temporary file in the same directory is written, synced and
// renamed over path, so readers see the old or the new file, and an
// existing file with looser permissions is replaced, not reused.
func WritePBSConfig(path string, cfg *PBSConfig) (err error) {
	if cfg == nil {
		return &ConfigError{Path: path, Reason: "nil config"}
	}
	if err := cfg.Validate(); err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			ce.Path = path
		}
		return err
	}
	data, err := cfg.marshalFile()
	if err != nil {
		return &ConfigError{Path: path, Reason: "encoding failed"}
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return &ConfigError{Path: path, Reason: "cannot create a temporary file", Err: err}
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	// CreateTemp uses 0600 already; Chmod makes it independent of that detail.
	if err = tmp.Chmod(0o600); err != nil {
		return &ConfigError{Path: path, Reason: "cannot set mode 0600", Err: err}
	}
	if _, err = tmp.Write(data); err != nil {
		return &ConfigError{Path: path, Reason: "cannot write", Err: err}
	}
	if err = tmp.Sync(); err != nil {
		return &ConfigError{Path: path, Reason: "cannot sync", Err: err}
	}
	if err = tmp.Close(); err != nil {
		return &ConfigError{Path: path, Reason: "cannot close", Err: err}
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return &ConfigError{Path: path, Reason: "cannot rename into place", Err: err}
	}
	syncDir(dir)
	st, serr := os.Lstat(path)
	if serr != nil {
		return &ConfigError{Path: path, Reason: "cannot check the written file", Err: serr}
	}
	if st.Mode().Perm() != 0o600 || st.Mode().Type() != 0 {
		return &ConfigError{Path: path, Reason: fmt.Sprintf("written file has mode %v, want -rw-------", st.Mode())}
	}
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// marshalFile encodes cfg with the secret in clear text.
func (c *PBSConfig) marshalFile() ([]byte, error) {
	base, secret, ds, id := c.BaseURL, c.Secret.Reveal(), c.Datastore, c.AuthID.String()
	out := pbsConfigFile{BaseURL: &base, AuthID: &id, Secret: &secret, Datastore: &ds}
	if c.Fingerprint != nil {
		fp := c.Fingerprint.String()
		out.Fingerprint = &fp
	}
	if c.Namespace != "" {
		ns := c.Namespace
		out.Namespace = &ns
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// String describes the config without the secret.
func (c PBSConfig) String() string {
	s := fmt.Sprintf("pbs-config{%s %s datastore %s", c.AuthID, c.BaseURL, c.Datastore)
	if c.Namespace != "" {
		s += " namespace " + c.Namespace
	}
	if c.Fingerprint != nil {
		s += " fingerprint " + c.Fingerprint.String()
	}
	return s + "}"
}

// GoString describes the config with a placeholder for the secret.
func (c PBSConfig) GoString() string {
	fp := "nil"
	if c.Fingerprint != nil {
		fp = fmt.Sprintf("%q", c.Fingerprint.String())
	}
	return fmt.Sprintf("auth.PBSConfig{BaseURL: %q, AuthID: %q, Secret: %#v, Datastore: %q, Fingerprint: %s, Namespace: %q}",
		c.BaseURL, c.AuthID.String(), c.Secret, c.Datastore, fp, c.Namespace)
}

// Repository returns the repository the config points to (with an
// explicit auth id).
func (c *PBSConfig) Repository() (Repository, error) {
	base, err := ParseBaseURL(c.BaseURL, PBS)
	if err != nil {
		return Repository{}, &ConfigError{Field: "baseurl", Reason: "invalid base URL", Err: err}
	}
	host, port, err := splitBaseURL(base)
	if err != nil {
		return Repository{}, &ConfigError{Field: "baseurl", Reason: "invalid base URL", Err: err}
	}
	r := Repository{AuthID: c.AuthID, Host: host, Port: port, Datastore: c.Datastore}
	if err := r.Validate(); err != nil {
		return Repository{}, &ConfigError{Reason: "does not form a repository", Err: err}
	}
	return r, nil
}

// Credentials returns an API token when the auth id is a token id,
// ticket credentials otherwise.
func (c *PBSConfig) Credentials(opts ...TicketOption) (Credentials, error) {
	return credentialsFor(c.AuthID, c.Secret, "field \"secret\" of pbs-config.json", opts)
}

// NewPBSConfig builds a config for repository r with secret (and an
// optional fingerprint and namespace), validated.
func NewPBSConfig(r Repository, secret Secret, fp *Fingerprint, namespace string) (*PBSConfig, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	cfg := &PBSConfig{
		BaseURL:   r.BaseURL(),
		AuthID:    r.EffectiveAuthID(),
		Secret:    secret,
		Datastore: r.Datastore,
		Namespace: namespace,
	}
	if fp != nil {
		v := *fp
		cfg.Fingerprint = &v
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}
