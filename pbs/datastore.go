package pbs

// DatastoreService holds the calls under /admin/datastore and /status:
// namespaces, groups, snapshots and their files, and datastore status.
type DatastoreService struct {
	c *Client
}
