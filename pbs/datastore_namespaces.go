package pbs

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/internal/httpapi"
)

// wireNamespace decodes a namespace name ("" for the root), checking it.
type wireNamespace struct{ ns datastore.Namespace }

func (w *wireNamespace) UnmarshalJSON(b []byte) error {
	var text string
	if err := json.Unmarshal(b, &text); err != nil {
		return err
	}
	ns, err := datastore.ParseNamespace(text)
	if err != nil {
		return fmt.Errorf("pbs: %w", err)
	}
	w.ns = ns
	return nil
}

// namespaceItem is the wire form of one namespace of GET .../namespace.
type namespaceItem struct {
	NS      wireNamespace `json:"ns"`
	Comment string        `json:"comment"`
}

// ListNamespaces returns parent and the namespaces below it, down to
// maxDepth levels (0: parent only; a negative maxDepth means the server's
// default, all levels), parent first. Only namespaces on which the caller
// holds a datastore privilege are listed.
//
// PBS: GET /admin/datastore/{store}/namespace (needs Datastore.Audit,
// Datastore.Modify, Datastore.Read or Datastore.Backup on each namespace
// listed; none at all is a 403)
func (s *DatastoreService) ListNamespaces(ctx context.Context, store string, parent datastore.Namespace, maxDepth int) ([]datastore.NamespaceListItem, error) {
	var v httpapi.Values
	dsSetNS(&v, "parent", parent)
	if maxDepth >= 0 {
		v.SetInt("max-depth", int64(maxDepth))
	}
	var raw []namespaceItem
	if err := s.c.api.Get(ctx, dsStorePath(store, "namespace"), v, &raw); err != nil {
		return nil, wrapError(err)
	}
	out := make([]datastore.NamespaceListItem, len(raw))
	for i, it := range raw {
		out[i] = datastore.NamespaceListItem{NS: it.NS.ns, Comment: it.Comment}
	}
	return out, nil
}

// CreateNamespace creates namespace name below parent (which must exist)
// and returns it. Creating one that exists already succeeds.
//
// PBS: POST /admin/datastore/{store}/namespace (needs Datastore.Modify on
// the parent, /datastore/{store}[/{parent}])
func (s *DatastoreService) CreateNamespace(ctx context.Context, store string, parent datastore.Namespace, name string) (datastore.Namespace, error) {
	var v httpapi.Values
	v.Set("name", name)
	dsSetNS(&v, "parent", parent)
	var out wireNamespace
	if err := s.c.api.Post(ctx, dsStorePath(store, "namespace"), v, &out); err != nil {
		return datastore.Namespace{}, wrapError(err)
	}
	return out.ns, nil
}

// DeleteNamespace removes ns and the namespaces below it. Without
// deleteGroups only empty namespaces go (the call fails if any holds a
// group); with it, all their groups are removed first, except protected
// snapshots and whatever holds them (the call then fails saying so). The
// root namespace cannot be deleted.
//
// PBS: DELETE /admin/datastore/{store}/namespace (needs Datastore.Modify on
// the parent of ns)
func (s *DatastoreService) DeleteNamespace(ctx context.Context, store string, ns datastore.Namespace, deleteGroups bool) error {
	var v httpapi.Values
	v.Set("ns", ns.String())
	if deleteGroups {
		v.SetBool("delete-groups", true)
	}
	return wrapError(s.c.api.Delete(ctx, dsStorePath(store, "namespace"), v, nil))
}
