package pbs

// AccessService holds the calls under /access: users, API tokens, ACLs,
// roles and effective permissions.
type AccessService struct {
	c *Client
}
