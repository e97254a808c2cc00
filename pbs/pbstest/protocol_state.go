package pbstest

// protocolState is the backup/reader protocol side's per-server state
// (Server.protocol). Its zero value must be usable, or protocolRoutes,
// which runs once before the server serves, initialises it.
type protocolState struct{}

// protocolOptions is what the protocol side's options (fault knobs and
// the like) set (config.protocol).
type protocolOptions struct{}
