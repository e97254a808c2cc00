// Command permissions prints the effective privileges of the caller, or of
// another user or token, on a PVE or PBS server, as the server computes
// them (ACL propagation, groups, roles, and for privilege-separated tokens
// the intersection with their user):
//
//	permissions [-product pve|pbs] [--repository R | --url U --authid A] [--fingerprint FP]
//	            [--of ID] [--path PATH] [--output-format text|json]
//
// Text output has one line per path: the path, then the privileges, or
// "(none)"; those that are not inherited by the paths below are listed
// again after "only here:". json is the server's answer as it came,
// {"path": {"Privilege": propagates}}.
// The caller authenticates as token-create describes.
package main
