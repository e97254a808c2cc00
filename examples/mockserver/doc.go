// Command mockserver runs the PVE or PBS mock server of this module on a
// loopback port, for scripts and third-party clients (curl, proxmoxer,
// proxmox-backup-client):
//
//	mockserver -product pbs -listen 127.0.0.1:0 -state DIR
//
// On start it prints one JSON line with the URL (with the port actually
// bound), the certificate fingerprint and a token with Admin rights on "/"
// (authid and secret); for PBS also the datastore "store1", its directory
// and a repository string. It serves until SIGINT or SIGTERM and then
// exits 0. With -state, PBS keeps its datastores in DIR (users, tokens and
// ACLs start fresh) and PVE its users, tokens and ACLs; either way the
// admin token gets a new secret on every start. Without -state, PBS uses a
// temporary directory removed on exit and PVE keeps everything in memory.
package main
