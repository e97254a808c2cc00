package main

import (
	"encoding/json"
	"net/url"
	"strconv"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/pbs"
	"github.com/proxkit/proxkit/pbs/pbstest"
)

// repository is srv's datastore as a repository of id.
func repository(srv *pbstest.Server, id auth.Authid) (auth.Repository, error) {
	u, err := url.Parse(srv.URL)
	if err != nil {
		return auth.Repository{}, err
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		return auth.Repository{}, err
	}
	r := auth.Repository{AuthID: id, Host: u.Hostname(), Port: port, Datastore: srv.Datastore}
	return r, r.Validate()
}

// writeConfig writes the pbs-config.json of tok for srv's datastore.
func writeConfig(srv *pbstest.Server, tok *pbs.CreatedToken, path string) (*auth.PBSConfig, error) {
	repo, err := repository(srv, tok.ID)
	if err != nil {
		return nil, err
	}
	fp := srv.Fingerprint
	cfg, err := auth.NewPBSConfig(repo, tok.Secret, &fp, "")
	if err != nil {
		return nil, err
	}
	return cfg, auth.WritePBSConfig(path, cfg)
}

// indentJSON renders v as indented JSON; secrets come out "[redacted]".
func indentJSON(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err.Error()
	}
	return string(b)
}
