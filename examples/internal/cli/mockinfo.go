package cli

// MockInfo is the one JSON line examples/mockserver prints on start: where
// the mock listens and a token with full rights. Scripts read it to
// configure other clients (PBS_REPOSITORY, PBS_PASSWORD, PBS_FINGERPRINT,
// or PVE_URL, PVE_AUTHID, PVE_PASSWORD, PVE_FINGERPRINT).
type MockInfo struct {
	Product     string `json:"product"`     // "pve" or "pbs"
	URL         string `json:"url"`         // https://127.0.0.1:PORT with the port actually bound
	Fingerprint string `json:"fingerprint"` // SHA-256 of the certificate, "ab:cd:…"
	AuthID      string `json:"authid"`      // token id, root@pam!admin
	Secret      string `json:"secret"`      // the token's secret, in clear: this is a test server
	// PBS only.
	Datastore     string `json:"datastore,omitempty"`      // the datastore that exists from the start
	DatastorePath string `json:"datastore_path,omitempty"` // its directory on disk
	Repository    string `json:"repository,omitempty"`     // authid@host:port:datastore, for PBS_REPOSITORY
}
