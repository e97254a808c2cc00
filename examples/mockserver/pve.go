package main

import (
	"github.com/proxkit/proxkit/examples/internal/cli"
	"github.com/proxkit/proxkit/pve/pvetest"
)

// startPVE starts the PVE mock; with state, users, tokens and ACLs persist
// in DIR (the admin token gets a new secret on every start).
func startPVE(listen, state string) (cli.MockInfo, func() error, error) {
	opts := []pvetest.Option{pvetest.WithListenAddr(listen)}
	if state != "" {
		opts = append(opts, pvetest.WithStateDir(state))
	}
	srv, err := pvetest.Start(opts...)
	if err != nil {
		return cli.MockInfo{}, nil, err
	}
	return cli.MockInfo{
		Product:     "pve",
		URL:         srv.URL,
		Fingerprint: srv.Fingerprint.String(),
		AuthID:      srv.AdminToken.ID.String(),
		Secret:      srv.AdminToken.Secret.Reveal(),
	}, srv.Close, nil
}
