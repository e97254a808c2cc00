// Package h2upgrade is the transport of PBS backup and reader sessions: an
// HTTP/1.1 upgrade request over TLS, answered with "101 Switching
// Protocols", after which the same TLS connection speaks HTTP/2 with prior
// knowledge, the upgrading side being the HTTP/2 client
// (pbs-protocol.md 3.1, 3.2, 4.1).
//
// Client side, Dial binds one session to one connection; nothing ever
// redials behind the caller's back:
//
//	conn, err := h2upgrade.Dial(ctx, h2upgrade.DialConfig{
//		URL:       sessionURL, // https://pbs:8007/api2/json/backup?backup-id=...
//		Protocol:  h2upgrade.BackupProtocol,
//		Authorize: creds.Apply, // adds Authorization or Cookie + CSRF token
//		TLSConfig: tlsConf,     // cloned; ALPN forced to http/1.1
//	})
//	var refused *h2upgrade.UpgradeError // status and plain-text message
//	resp, err := conn.Do(ctx, "POST", "/dynamic_chunk", query, "application/octet-stream", body)
//	conn.Close() // ends the session; PBS keeps the snapshot only after "finish"
//
// Requests run concurrently on the session; those beyond the server's
// stream limit wait for a free stream; cancelling one request's context
// resets only its stream. When the connection ends, Done is closed and
// requests fail with ErrClosed.
//
// Server side (for mock servers), Upgrade checks the Upgrade header as PBS
// does, hijacks the connection, writes the 101 and serves an http.Handler
// over HTTP/2 until the session ends, returning only after every handler
// call has returned:
//
//	if err := h2upgrade.Upgrade(w, r, h2upgrade.BackupProtocol, session); err != nil {
//		http.Error(w, err.Error(), http.StatusBadRequest) // only if nothing was written
//	}
//	// session over: finish succeeded? keep the snapshot, else remove it
//
// Flow control follows upstream where x/net/http2 allows: the client
// announces 2^31-2 byte windows for streams and the connection and 4 MiB
// frames, the server 32 MiB windows and 4 MiB frames.
//
// Neither side parses anything itself beyond the 101 answer, which
// net/http reads; a fuzz test covers that path.
package h2upgrade
