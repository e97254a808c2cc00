// Package clientcfg turns the functional options that pve.NewClient and
// pbs.NewClient accept into one httpapi.Client, so that both public
// packages offer the same options with the same checks and neither
// duplicates the other. Each public package wraps Settings in its own
// Option type; nothing here appears in a public signature.
package clientcfg
