package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/proxkit/proxkit/auth"
)

// TargetFlags are the flags of a program that works with either product:
// -product, the PBS flag --repository, the PVE flags --url and --authid,
// and one --fingerprint for whichever server is used.
type TargetFlags struct {
	product     string
	fingerprint string
	pbs         PBSFlags
	pve         PVEFlags
}

// AddTargetFlags registers the flags of both products on fs.
func AddTargetFlags(fs *flag.FlagSet) *TargetFlags {
	t := &TargetFlags{}
	t.pbs.fingerprint = &t.fingerprint
	t.pve.fingerprint = &t.fingerprint
	fs.StringVar(&t.product, "product", "", "pve or pbs (default: pbs when a PBS repository is given, pve when a PVE URL is)")
	t.pbs.register(fs)
	t.pve.register(fs)
	fs.StringVar(&t.fingerprint, "fingerprint", "", "expected server certificate SHA-256 fingerprint (default $"+auth.EnvPBSFingerprint+" or $"+auth.EnvPVEFingerprint+")")
	return t
}

// Target is the server a two-product program talks to: exactly one of PBS
// and PVE is set, as Product says.
type Target struct {
	Product auth.Product
	PBS     *PBS
	PVE     *PVE
}

// Load picks the product (-product, else the one whose flag or variable
// names a server: --repository/PBS_REPOSITORY or --url/PVE_URL; both is an
// error) and loads its settings.
func (t *TargetFlags) Load(ctx context.Context, app *App) (*Target, error) {
	product, err := t.pick(app)
	if err != nil {
		return nil, err
	}
	switch product {
	case auth.PBS:
		p, err := t.pbs.Load(ctx, app)
		if err != nil {
			return nil, err
		}
		return &Target{Product: auth.PBS, PBS: p}, nil
	default:
		p, err := t.pve.Load(ctx, app)
		if err != nil {
			return nil, err
		}
		return &Target{Product: auth.PVE, PVE: p}, nil
	}
}

func (t *TargetFlags) pick(app *App) (auth.Product, error) {
	switch strings.ToLower(t.product) {
	case "pbs":
		return auth.PBS, nil
	case "pve":
		return auth.PVE, nil
	case "":
	default:
		return 0, Usagef("-product: want pve or pbs, got %q", t.product)
	}
	_, pbsEnv := app.lookup()(auth.EnvPBSRepository)
	_, pveEnv := app.lookup()(auth.EnvPVEURL)
	isPBS := t.pbs.given() || (pbsEnv && !t.pve.given())
	isPVE := t.pve.given() || (pveEnv && !t.pbs.given())
	switch {
	case isPBS && isPVE:
		return 0, fmt.Errorf("both %s and %s are set: choose the server with -product pve or -product pbs", auth.EnvPBSRepository, auth.EnvPVEURL)
	case isPBS:
		return auth.PBS, nil
	case isPVE:
		return auth.PVE, nil
	}
	return 0, errors.New("no server: give --repository (or set " + auth.EnvPBSRepository + ") for PBS, --url (or set " + auth.EnvPVEURL + ") for PVE")
}
