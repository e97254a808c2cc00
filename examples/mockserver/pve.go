package main

import (
	"errors"

	"github.com/proxkit/proxkit/examples/internal/cli"
)

// startPVE waits for package pvetest.
func startPVE(listen, state string) (cli.MockInfo, func() error, error) {
	return cli.MockInfo{}, nil, errors.New("the PVE mock is not available yet")
}
