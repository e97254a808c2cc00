package cli

import (
	"flag"

	"github.com/proxkit/proxkit/datastore"
)

// NamespaceFlag is the --ns flag of the PBS programs, as in
// proxmox-backup-client.
type NamespaceFlag struct {
	value string
}

// AddNamespaceFlag registers --ns on fs; usage "" gives the usual text.
func AddNamespaceFlag(fs *flag.FlagSet, usage string) *NamespaceFlag {
	if usage == "" {
		usage = "namespace a/b/c (default: the root namespace)"
	}
	f := &NamespaceFlag{}
	fs.StringVar(&f.value, "ns", "", usage)
	return f
}

// Namespace parses the flag; a bad value is a usage error.
func (f *NamespaceFlag) Namespace() (datastore.Namespace, error) {
	ns, err := datastore.ParseNamespace(f.value)
	if err != nil {
		return datastore.Namespace{}, Usagef("--ns: %v", err)
	}
	return ns, nil
}
