package pbstest

// adminState is the datastore-administration side's per-server state
// (Server.admin). Its zero value must be usable, or adminRoutes, which
// runs once before the server serves, initialises it.
type adminState struct{}

// adminOptions is what the datastore-administration side's options set
// (config.admin).
type adminOptions struct{}
