// Package mockcore holds the server-side building blocks shared by the
// in-process mock servers pve/pvetest (Proxmox VE) and pbs/pbstest (Proxmox
// Backup Server), so both speak their product's wire dialect exactly and
// neither duplicates the other.
//
// The pieces, each following the facts in shared/spec/access-api.md
// (sections 2, 7, 8) and pbs-protocol.md (1.1, 1.3-1.5, 9.2):
//
//   - TLS: NewSelfSignedCert and StartServer serve a handler over TLS on
//     loopback with ALPN "http/1.1" only (the PBS backup upgrade must not
//     be negotiated to h2) and expose the certificate fingerprint.
//   - Credentials: ExtractCredentials and ParseTokenHeader decode ticket
//     cookies and API token headers as each server does (PVE: prefix at a
//     word start, split at the last '=', everything percent-decoded; PBS:
//     prefix at the start, split at the first ':', only the secret
//     decoded; a ticket cookie always wins).
//   - Sessions: TicketSigner mints and verifies "PVE:…"/"PBS:…" tickets and
//     CSRF prevention tokens (2 h lifetime, 5 min future skew);
//     SecretStore keeps API token secrets as salted hashes; Authenticator
//     runs the whole request check and writes the product's 401.
//   - Replies: WritePVEData / WritePVEError and friends produce PVE's
//     {"data": …} envelope and its errors, whose text lives in the HTTP
//     reason phrase ("401 No ticket" with an empty body; net/http cannot
//     set a reason, so the connection is hijacked and the response written
//     by hand); WritePBSData / WritePBSError produce PBS's envelope with
//     siblings such as "digest" and its plain-text errors.
//   - Parameters: ParsePVEParams and ParsePBSParams read query, form and
//     JSON bodies with each product's rules, and Params converts values on
//     access (PVE booleans 0/1 only, PBS 1/0/true/false/yes/no/on/off, PVE
//     comma lists, PBS repeated keys), collecting problems into a
//     *ParamError that the Write…Failure functions render per dialect.
//   - Routing: Router maps "METHOD /path/{param}" routes with ServeMux
//     patterns and a dialect not-found handler; PBSPaths applies PBS's path
//     normalization.
//   - State: WriteStateFile and ReadStateFile persist a mock's state as
//     JSON (mode 0600, atomic rename) for mocks that survive restarts;
//     StateACL is the ACL entry both state files keep.
//   - Lifecycle: MockConfig and the Set… setters are the bodies of the
//     options both mocks offer (listen address, state directory, clock,
//     root password, version, error log); MockConfig.Listen
//     and StartForTest are the common parts of their Start and NewServer.
//   - Time: every time-dependent function takes the time or a Clock;
//     FakeClock lets tests move it; AuthFailureDelay models the servers' 3 s
//     delay of 401 replies (off by default in mocks).
//
// A minimal PVE-flavoured mock:
//
//	signer, secrets := mockcore.NewTicketSigner(), mockcore.NewSecretStore()
//	authn := &mockcore.Authenticator{Product: auth.PVE, Tickets: signer, Secrets: secrets,
//		Active: func(id auth.Authid, now time.Time) bool { return knownAndEnabled(id, now) }}
//	rt := mockcore.NewRouter(mockcore.APIPrefix, http.HandlerFunc(mockcore.WritePVENotImplemented))
//	rt.Handle("GET", "/version", func(w http.ResponseWriter, r *http.Request) {
//		if _, err := authn.Authenticate(r); err != nil {
//			authn.WriteFailure(w, r, err)
//			return
//		}
//		mockcore.WritePVEData(w, r, map[string]any{"version": "9.0"})
//	})
//	srv, err := mockcore.StartServer("", mockcore.StampArrival(rt))
//
// The package is internal: its types never appear in the public API of
// pvetest or pbstest.
package mockcore
