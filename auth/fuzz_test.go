package auth

import (
	"errors"
	"strings"
	"testing"
)

// canary is shaped like a real token secret; no error may ever show it.
const canary = "0badc0de-1234-4cde-8f00-feedfacecafe"

// checkNoCanary fails when an error shows the canary.
func checkNoCanary(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), canary) {
		t.Fatalf("error shows the secret: %v", err)
	}
}

// withSecrets returns s with the canary appended the ways a secret gets
// pasted: after '=', ':' or a space.
func withSecrets(s string) []string {
	return []string{s + "=" + canary, s + ":" + canary, s + " " + canary}
}

var idSeeds = []string{
	"root@pam", "backup@pbs!client1", "john@example.com@pbs", "alice@pbs!backup@store1",
	"pve@pbs@pbs-store", "bob!tok@pve", "a@1x", "u@pbs!", "root", "", "PVEAPIToken=u@pve!t=" + canary,
	"u@pbs!t:" + canary, canary, "müller@pve", "a\x00b@pam", "a\xff@pam", "@", "!", "@!", "a@b!c@d!e",
}

func FuzzParseAuthid(f *testing.F) {
	for _, s := range idSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAuthid(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidID) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
		} else {
			back, err := ParseAuthid(a.String())
			if err != nil || back != a || a.String() != s {
				t.Fatalf("round trip of %q: %q %v", s, back.String(), err)
			}
			_ = a.Hint()
			_ = a.ValidateFor(PVE)
			_ = a.ValidateFor(PBS)
		}
		for _, v := range withSecrets(s) {
			_, err := ParseAuthid(v)
			checkNoCanary(t, err)
		}
	})
}

func FuzzParseUserid(f *testing.F) {
	for _, s := range idSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseUserid(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidID) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
		} else {
			back, err := ParseUserid(u.String())
			if err != nil || back != u || u.String() != s {
				t.Fatalf("round trip of %q: %q %v", s, back.String(), err)
			}
			if a, err := ParseAuthid(s); err != nil || a.IsToken() || a.User() != u {
				t.Fatalf("ParseAuthid disagrees on %q: %v", s, err)
			}
			_ = u.ValidateFor(PVE)
		}
		for _, v := range withSecrets(s) {
			_, err := ParseUserid(v)
			checkNoCanary(t, err)
		}
	})
}

func FuzzParseTokenName(f *testing.F) {
	for _, s := range []string{"t", "1st", "backup", "a.b-c_d", "", "-x", "tok=abc", "a b", "alice@pbs!backup", canary} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tn, err := ParseTokenName(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidID) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
		} else {
			if string(tn) != s {
				t.Fatalf("token name %q came back as %q", s, tn)
			}
			a, err := ParseAuthid("u@pbs!" + s)
			if err != nil || a.TokenName() != tn {
				t.Fatalf("token name %q does not fit an auth id: %v", s, err)
			}
		}
		for _, v := range withSecrets(s) {
			_, err := ParseTokenName(v)
			checkNoCanary(t, err)
		}
	})
}

func FuzzParseRepository(f *testing.F) {
	for _, s := range []string{
		"mydatastore", "myhostname:mydatastore", "user@pbs@myhostname:mydatastore", "user@pbs!token@host:store",
		"192.168.55.55:1234:mydatastore", "[ff80::51]:mydatastore", "[ff80::51]:1234:mydatastore", "8007:store",
		"john@example.com@pbs@host:store", "host:65536:store", "https://x", "a@pbs!t:" + canary + "@h:s", "[::ffff:1.2.3.4]:s",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRepository(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidRepository) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
		} else {
			back, err := ParseRepository(r.String())
			if err != nil || back != r {
				t.Fatalf("round trip of %q via %q: %+v %v", s, r.String(), back, err)
			}
			if err := r.Validate(); err != nil {
				t.Fatalf("parsed repository %q does not validate: %v", s, err)
			}
			if _, err := ParseBaseURL(r.BaseURL(), PBS); err != nil {
				t.Fatalf("BaseURL %q of %q does not parse: %v", r.BaseURL(), s, err)
			}
		}
		for _, v := range withSecrets(s) {
			_, err := ParseRepository(v)
			checkNoCanary(t, err)
			_, err = ParseRepository("a@pbs!t" + v[len(s):] + "@" + s)
			checkNoCanary(t, err)
		}
	})
}

func FuzzParseFingerprint(f *testing.F) {
	for _, s := range []string{
		strings.Repeat("ab:", 31) + "ab", strings.Repeat("AB", 32), "", "ab:cd", strings.Repeat("zz", 32), " " + strings.Repeat("01", 32) + "\n", canary,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fp, err := ParseFingerprint(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidFingerprint) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			checkNoCanary(t, err)
			return
		}
		back, err := ParseFingerprint(fp.String())
		if err != nil || back != fp {
			t.Fatalf("round trip of %q: %v", s, err)
		}
	})
}

func FuzzParsePBSConfig(f *testing.F) {
	for _, s := range []string{
		validPBSConfig,
		`{"baseurl":"https://pbs","authid":"u@pbs","secret":"` + canary + `","datastore":"ds1"}`,
		`{"baseurl":"https://pbs","authid":"u@pbs!t","secret":"` + canary + `","datastore":"ds1","namespace":"a/b","fingerprint":"` + strings.Repeat("00", 32) + `"}`,
		`{"baseurl":"http://` + canary + `","authid":"` + canary + `","secret":"` + canary + `","datastore":"` + canary + `"}`,
		`{"secret":` + canary + `}`, `[]`, `null`, ``, `{"secret":"` + canary + `"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParsePBSConfig(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			checkNoCanary(t, err)
			return
		}
		if strings.Contains(cfg.String(), canary) && !strings.Contains(cfg.AuthID.String()+cfg.BaseURL+cfg.Datastore+cfg.Namespace, canary) {
			t.Fatalf("String shows the secret: %s", cfg)
		}
		out, err := cfg.marshalFile()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParsePBSConfig(out)
		if err != nil || back.String() != cfg.String() || !back.Secret.Equal(cfg.Secret) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func FuzzSplitWords(f *testing.F) {
	for _, s := range []string{`ls /etc`, `a 'b c' "d\"e" f\ g`, `"unclosed`, `\`, ``} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words, err := splitWords(s)
		if err != nil {
			if !errors.Is(err, errUnclosedQuote) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		// Quoting every word in single quotes gives the same words back.
		var b strings.Builder
		for _, w := range words {
			b.WriteString("'" + strings.ReplaceAll(w, "'", `'\''`) + "' ")
		}
		again, err := splitWords(b.String())
		if err != nil || len(again) != len(words) {
			t.Fatalf("requoting %q: %q %v", words, again, err)
		}
		for i := range words {
			if again[i] != words[i] {
				t.Fatalf("requoting %q gave %q", words, again)
			}
		}
	})
}
