package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strconv"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/examples/internal/cli"
	"github.com/proxkit/proxkit/pbs/pbstest"
)

func main() { cli.Main("mockserver", run) }

func run(ctx context.Context, app *cli.App) error {
	fs := app.FlagSet("-product pve|pbs [-listen 127.0.0.1:PORT] [-state DIR]")
	product := fs.String("product", "pbs", "pve or pbs")
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on; port 0 picks a free one")
	state := fs.String("state", "", "directory for the server's data (default: a temporary directory removed on exit)")
	if _, err := app.ParseArgs(fs, 0, 0); err != nil {
		return err
	}
	var (
		info  cli.MockInfo
		close func() error
		err   error
	)
	switch *product {
	case "pbs":
		info, close, err = startPBS(*listen, *state)
	case "pve":
		info, close, err = startPVE(*listen, *state)
	default:
		return cli.Usagef("-product: want pve or pbs, got %q", *product)
	}
	if err != nil {
		return err
	}
	line, err := json.Marshal(info)
	if err != nil {
		close()
		return err
	}
	if _, err := fmt.Fprintf(app.Stdout, "%s\n", line); err != nil {
		close()
		return err
	}
	<-ctx.Done()
	return close()
}

func startPBS(listen, state string) (cli.MockInfo, func() error, error) {
	opts := []pbstest.Option{pbstest.WithListenAddr(listen)}
	if state != "" {
		opts = append(opts, pbstest.WithStateDir(state))
	}
	srv, err := pbstest.Start(opts...)
	if err != nil {
		return cli.MockInfo{}, nil, err
	}
	repo, err := repositoryOf(srv.URL, srv.AdminToken.ID, srv.Datastore)
	if err != nil {
		srv.Close()
		return cli.MockInfo{}, nil, err
	}
	return cli.MockInfo{
		Product:       "pbs",
		URL:           srv.URL,
		Fingerprint:   srv.Fingerprint.String(),
		AuthID:        srv.AdminToken.ID.String(),
		Secret:        srv.AdminToken.Secret.Reveal(),
		Datastore:     srv.Datastore,
		DatastorePath: srv.DatastorePath,
		Repository:    repo,
	}, srv.Close, nil
}

// repositoryOf builds the repository string of a datastore on the server
// at baseURL, as PBS_REPOSITORY wants it.
func repositoryOf(baseURL string, id auth.Authid, store string) (string, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return "", err
	}
	host, portStr, err := net.SplitHostPort(u.Host)
	if err != nil {
		return "", err
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return "", err
	}
	r := auth.Repository{AuthID: id, Host: host, Port: port, Datastore: store}
	if err := r.Validate(); err != nil {
		return "", err
	}
	return r.String(), nil
}
