package pbstest

// The JSON shapes of PBS's User, UserWithTokens and ApiToken: optional
// members are left out when unset.

type userJSON struct {
	Userid    string      `json:"userid"`
	Comment   string      `json:"comment,omitempty"`
	Enable    *bool       `json:"enable,omitempty"`
	Expire    *int64      `json:"expire,omitempty"`
	Firstname string      `json:"firstname,omitempty"`
	Lastname  string      `json:"lastname,omitempty"`
	Email     string      `json:"email,omitempty"`
	Tokens    []tokenJSON `json:"tokens,omitempty"`
}

type tokenJSON struct {
	TokenName string `json:"token-name,omitempty"` // only in GET .../token lists
	Tokenid   string `json:"tokenid"`
	Comment   string `json:"comment,omitempty"`
	Enable    *bool  `json:"enable,omitempty"`
	Expire    *int64 `json:"expire,omitempty"`
}

func (u *userRecord) json() userJSON {
	return userJSON{
		Userid: u.id.String(), Comment: u.comment, Enable: u.enable, Expire: u.expire,
		Firstname: u.firstname, Lastname: u.lastname, Email: u.email,
	}
}

func (t *tokenRecord) json() tokenJSON {
	return tokenJSON{Tokenid: t.id.String(), Comment: t.comment, Enable: t.enable, Expire: t.expire}
}
