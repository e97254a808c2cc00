package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/proxkit/proxkit/auth"
)

func ExampleParseAuthid() {
	id, err := auth.ParseAuthid("backup@pbs!client1")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(id.User(), id.User().Realm(), id.TokenName(), id.IsToken())

	// Parses like the server, but is probably a mistake:
	odd, _ := auth.ParseAuthid("pve@pbs@pbs-store")
	fmt.Println(odd.User().Name(), odd.User().Realm())

	// Errors name the usual mistake and never echo a pasted secret.
	_, err = auth.ParseAuthid("backup@pbs!client1:d63e505a-e3ec-449a-9bc7-1da610d4ccde")
	fmt.Println(err)
	fmt.Println(errors.Is(err, auth.ErrInvalidID))
	// Output:
	// backup@pbs pbs client1 true
	// pve@pbs pbs-store
	// invalid auth id "backup@pbs!client1[…redacted]": contains ':': this looks like a token id with its secret (id:secret) or a repository string (user@realm@host:store); pass the id alone
	// true
}

func ExampleAuthid_Hint() {
	id, _ := auth.ParseAuthid("bob!ci@pve")
	fmt.Println(id.Hint())
	// Output:
	// auth id "bob!ci@pve" is read by the server as user "bob!ci" in realm "pve": the token name goes last; did you mean bob@pve!ci?
}

func ExampleToken_PVEHeader() {
	tok, err := auth.NewToken(auth.MustParseAuthid("automation@pve!ci"), auth.NewSecret("d63e505a-e3ec-449a-9bc7-1da610d4ccde"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok.PVEHeader())
	fmt.Println(tok) // never shows the secret
	// Output:
	// PVEAPIToken=automation@pve!ci=d63e505a-e3ec-449a-9bc7-1da610d4ccde
	// API token automation@pve!ci
}

func ExampleToken_PBSHeader() {
	tok, err := auth.NewToken(auth.MustParseAuthid("john@pbs!client1"), auth.NewSecret("d63e505a-e3ec-449a-9bc7-1da610d4ccde"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok.PBSHeader())
	fmt.Printf("%+v\n", tok)
	// Output:
	// PBSAPIToken=john@pbs!client1:d63e505a-e3ec-449a-9bc7-1da610d4ccde
	// API token john@pbs!client1
}

func ExampleParseRepository() {
	for _, s := range []string{"mydatastore", "backup@pbs!client@[ff80::51]:1234:store1"} {
		r, err := auth.ParseRepository(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(r.AuthID, r.HasAuthID(), r.BaseURL(), r.Datastore, r)
	}
	_, err := auth.ParseRepository("pbs.example.com:70000:store")
	fmt.Println(err)
	// Output:
	// root@pam false https://localhost:8007 mydatastore localhost:mydatastore
	// backup@pbs!client true https://[ff80::51]:1234 store1 backup@pbs!client@[ff80::51]:1234:store1
	// invalid repository "pbs.example.com:70000:store": port 70000 outside 1..65535
}

func ExampleLoadPBSEnvironment() {
	// Tests and examples pass a map; programs pass nil (os.LookupEnv).
	env, err := auth.LoadPBSEnvironment(context.Background(), auth.MapEnv(map[string]string{
		"PBS_REPOSITORY":  "backup@pbs!client@pbs.example.com:store1",
		"PBS_PASSWORD":    "d63e505a-e3ec-449a-9bc7-1da610d4ccde",
		"PBS_FINGERPRINT": "64:d3:ff:3a:50:38:53:5a:9a:5b:f4:71:3f:1a:0a:31:51:4b:8a:ae:9c:5e:ad:17:6d:1e:38:f2:2d:36:91:5a",
	}))
	if err != nil {
		fmt.Println(err)
		return
	}
	creds, err := env.Credentials()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(creds, env.Repository.BaseURL(), env.SecretFrom)
	// Output:
	// API token backup@pbs!client https://pbs.example.com:8007 PBS_PASSWORD
}

func ExampleTLSConfig() {
	fp, err := auth.ParseFingerprint("64:d3:ff:3a:50:38:53:5a:9a:5b:f4:71:3f:1a:0a:31:51:4b:8a:ae:9c:5e:ad:17:6d:1e:38:f2:2d:36:91:5a")
	if err != nil {
		fmt.Println(err)
		return
	}
	conf, err := auth.TLSConfig(auth.WithFingerprint(&fp))
	if err != nil {
		fmt.Println(err)
		return
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: conf}}
	_ = client // a wrong certificate fails with *auth.FingerprintMismatchError
	fmt.Println(fp)
	// Output:
	// 64:d3:ff:3a:50:38:53:5a:9a:5b:f4:71:3f:1a:0a:31:51:4b:8a:ae:9c:5e:ad:17:6d:1e:38:f2:2d:36:91:5a
}

func ExampleNewTicketCredentials() {
	creds, err := auth.NewTicketCredentials(auth.MustParseUserid("root@pam"), auth.NewSecret("password"))
	if err != nil {
		fmt.Println(err)
		return
	}
	// The first Apply logs in through the endpoint's client:
	//   ep := auth.Endpoint{Product: auth.PVE, BaseURL: "https://pve:8006", Client: httpClient}
	//   err = creds.Apply(ctx, req, ep)
	fmt.Println(creds)
	// Output:
	// ticket login for root@pam
}

func ExampleParsePBSConfig() {
	cfg, err := auth.ParsePBSConfig([]byte(`{
		"baseurl": "https://pbs.example.com",
		"authid": "customer1@pbs!backup",
		"secret": "d63e505a-e3ec-449a-9bc7-1da610d4ccde",
		"datastore": "customer1"
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	repo, _ := cfg.Repository()
	fmt.Println(cfg)
	fmt.Println(repo)
	// Output:
	// pbs-config{customer1@pbs!backup https://pbs.example.com:8007 datastore customer1}
	// customer1@pbs!backup@pbs.example.com:customer1
}
