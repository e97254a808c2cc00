package acl

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/proxkit/proxkit/auth"
)

var lintNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// findings keeps only the given check's findings, as "subject path".
func findings(fs []Finding, check string) []string {
	var out []string
	for _, f := range fs {
		if f.Check == check {
			out = append(out, f.Subject+" "+f.Path)
		}
	}
	return out
}

func TestLintAdminAtRoot(t *testing.T) {
	p := policyFromConfig(t, auth.PVE, `
token:ci@pve!deploy::1:
token:ci@pve!legacy::0:
group:admins:ann@pve:
role:aclmgr:Permissions.Modify:
role:sysmod:Sys.Modify,Sys.Audit:
acl:1:/:ci@pve!deploy:Administrator:
acl:1:/:ci@pve!legacy:Administrator:
acl:1:/:ann@pve:PVEAdmin:
acl:0:/:bob@pve:aclmgr:
acl:1:/:@admins:sysmod:
acl:1:/:aud@pve:PVEAuditor:
acl:1:/vms:vmadm@pve:Administrator:
`)
	fs := Lint(p, nil, lintNow)
	assert.Equal(t, []string{"ci@pve!deploy /", "admins /", "ann@pve /", "bob@pve /"}, findings(fs, CheckAdminAtRoot))
	require.NotEmpty(t, fs)
	assert.Equal(t, SeverityCritical, fs[0].Severity, "the token comes first")
	assert.Equal(t, CheckAdminAtRoot, fs[0].Check)
	assert.Contains(t, fs[0].Message, "anyone with its secret")
	for _, f := range fs {
		if f.Subject == "bob@pve" {
			assert.Contains(t, f.Message, "not propagated")
		}
	}

	pbs := policyFromConfig(t, auth.PBS, `
acl:1:/:alice@pbs!t:Admin
acl:1:/:alice@pbs:Admin
acl:1:/:bob@pbs:Audit
acl:1:/datastore:carl@pbs:Admin
`)
	assert.Equal(t, []string{"alice@pbs!t /", "alice@pbs /"}, findings(Lint(pbs, nil, lintNow), CheckAdminAtRoot))
}

func TestLintTokens(t *testing.T) {
	p := policyFromConfig(t, auth.PVE, `
token:dave@pve!idle::1:
token:dave@pve!full::0:
token:dave@pve!ignored::0:
token:dave@pve!capped::1:
token:dave@pve!ok::1:
token:root@pam!auto::1:
acl:1:/vms:dave@pve:PVEVMUser:
acl:1:/vms:dave@pve!ignored:PVEVMUser:
acl:1:/nodes:dave@pve!capped:PVESysAdmin:
acl:1:/vms:dave@pve!capped:PVEVMUser:
acl:1:/vms:dave@pve!ok:PVEVMUser:
acl:1:/nodes:root@pam!auto:PVESysAdmin:
`)
	fs := Lint(p, nil, lintNow)
	assert.Equal(t, []string{"dave@pve!idle "}, findings(fs, CheckTokenNoACL))
	assert.Equal(t, []string{"dave@pve!full ", "dave@pve!ignored "}, findings(fs, CheckTokenNoPrivsep))
	assert.Equal(t, []string{"dave@pve!ignored "}, findings(fs, CheckTokenRowsIgnored))
	assert.Equal(t, []string{"dave@pve!capped /nodes"}, findings(fs, CheckTokenCappedToNone), "root@pam's tokens are not capped")
	for _, f := range fs {
		if f.Check == CheckTokenCappedToNone {
			assert.Contains(t, f.Message, "Sys.Audit, Sys.Console, Sys.Syslog")
			assert.Contains(t, f.Message, "dave@pve holds none")
			assert.Equal(t, SeverityWarning, f.Severity)
		}
	}

	// PBS: every token is separated; tokens known only from their rows or
	// from the accounts are judged too.
	pbs := policyFromConfig(t, auth.PBS, `
acl:1:/datastore:erin@pbs!backup:DatastoreBackup
acl:1:/datastore/s1:erin@pbs:DatastoreAudit
`)
	accounts := []Account{{ID: id("erin@pbs")}, {ID: id("erin@pbs!unused")}}
	pfs := Lint(pbs, accounts, lintNow)
	assert.Equal(t, []string{"erin@pbs!unused "}, findings(pfs, CheckTokenNoACL))
	assert.Equal(t, []string{"erin@pbs!backup /datastore"}, findings(pfs, CheckTokenCappedToNone))
	assert.Empty(t, findings(pfs, CheckTokenNoPrivsep))
}

func TestLintLifecycle(t *testing.T) {
	now := lintNow.Unix()
	accounts := []Account{
		{ID: id("old@pve"), Expire: now - 86400},
		{ID: id("old@pve!t"), Expire: 0},
		{ID: id("edge@pve"), Expire: now}, // PVE: expire < now, so not yet
		{ID: id("off@pve"), Disabled: true},
		{ID: id("off@pve!t")},
		{ID: id("live@pve"), Expire: now + 3600},
		{ID: id("live@pve!gone"), Expire: 1},
	}
	p := NewPolicy(auth.PVE)
	fs := Lint(p, accounts, lintNow)
	assert.Equal(t, []string{"live@pve!gone ", "old@pve "}, findings(fs, CheckExpired))
	assert.Equal(t, []string{"off@pve!t ", "old@pve!t "}, findings(fs, CheckOwnerInactive))
	for _, f := range fs {
		if f.Subject == "old@pve" {
			assert.Contains(t, f.Message, "2026-05-31T12:00:00Z")
		}
	}

	// PBS counts an expiry equal to now as expired.
	pbsFs := Lint(NewPolicy(auth.PBS), []Account{{ID: id("edge@pbs"), Expire: now}}, lintNow)
	assert.Equal(t, []string{"edge@pbs "}, findings(pbsFs, CheckExpired))
}

func TestLintCleanPolicy(t *testing.T) {
	p := policyFromConfig(t, auth.PVE, `
token:ops@pve!ci::1:
acl:1:/vms:ops@pve:PVEVMAdmin:
acl:1:/vms/100:ops@pve!ci:PVEVMUser:
`)
	assert.Empty(t, Lint(p, []Account{{ID: id("ops@pve")}, {ID: id("ops@pve!ci")}}, lintNow))
}

func TestFindingString(t *testing.T) {
	f := Finding{Severity: SeverityWarning, Check: CheckAdminAtRoot, Subject: "a@pve", Path: "/", Message: "m"}
	assert.Equal(t, "warning admin-at-root: a@pve on /: m", f.String())
	assert.Equal(t, "critical", SeverityCritical.String())
	assert.Equal(t, "info", SeverityInfo.String())
	assert.Equal(t, "unknown", Severity(0).String())
}
