package h2upgrade

import "time"

// Protocol names PBS accepts in the Upgrade header (pbs-protocol.md 3.1, 4.1).
const (
	// BackupProtocol opens a backup (writer) session at /api2/json/backup.
	BackupProtocol = "proxmox-backup-protocol-v1"
	// ReaderProtocol opens a restore (reader) session at /api2/json/reader.
	ReaderProtocol = "proxmox-backup-reader-protocol-v1"
)

// HTTP/2 settings, as upstream uses them (pbs-protocol.md 3.2). They only
// matter for throughput.
const (
	// MaxFrameSize is the largest frame either side accepts: 4 MiB.
	MaxFrameSize = 4 << 20

	// ClientWindow is the receive window the Rust client announces for
	// every stream and for the connection: 2^31-2.
	ClientWindow = 1<<31 - 2

	// ServerWindow is the receive window PBS announces for every stream and
	// for the connection: 32 MiB.
	ServerWindow = 32 << 20

	// initialWindow is the window every HTTP/2 connection starts with.
	initialWindow = 65535

	// clientConnWindowIncrement is what x/net/http2's Transport is told as
	// its connection receive buffer. It sends that amount as a WINDOW_UPDATE
	// on top of the initial 65535, so asking for ClientWindow itself would
	// overflow the peer's 2^31-1 limit and kill the connection.
	clientConnWindowIncrement = ClientWindow - initialWindow
)

// Defaults of DialConfig (pbs-protocol.md 1.1).
const (
	// DefaultConnectTimeout bounds the TCP connection.
	DefaultConnectTimeout = 10 * time.Second
	// DefaultUpgradeTimeout bounds the TLS handshake plus the upgrade
	// request and its answer.
	DefaultUpgradeTimeout = 120 * time.Second
	// DefaultKeepAlive is the TCP keepalive idle time.
	DefaultKeepAlive = 120 * time.Second
)
