package pbs

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/proxkit/proxkit/datastore"
	"github.com/proxkit/proxkit/internal/httpapi"
)

// DatastoreService holds the calls under /admin/datastore and /status:
// namespaces, groups, snapshots and their files, datastore status, and the
// verify, garbage collection and prune jobs with the task calls to follow
// them.
//
// Names come as package datastore types (datastore.Namespace, Group,
// Snapshot), so what a listing returns can be passed back as is; the root
// namespace is the zero datastore.Namespace.
type DatastoreService struct {
	c *Client
}

// DatastoreInfo is one datastore of GET /admin/datastore.
type DatastoreInfo struct {
	// Store is the datastore name.
	Store string
	// Comment is the datastore's comment; "" when unset or when the
	// caller may only see the name (privileges below the datastore only).
	Comment string
	// Maintenance is the maintenance mode as a property string
	// ("type=read-only,message=..."), "" when the datastore is in service.
	Maintenance string
}

// UnmarshalJSON decodes {"store", "comment": string or null, "maintenance"?}.
func (d *DatastoreInfo) UnmarshalJSON(b []byte) error {
	var w struct {
		Store       string  `json:"store"`
		Comment     *string `json:"comment"`
		Maintenance string  `json:"maintenance"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	if w.Store == "" {
		return fmt.Errorf("pbs: datastore item without store name")
	}
	*d = DatastoreInfo{Store: w.Store, Maintenance: w.Maintenance}
	if w.Comment != nil {
		d.Comment = *w.Comment
	}
	return nil
}

// DatastoreUsage is one datastore of GET /status/datastore-usage. For a
// datastore the caller may only see by name, everything but Store is unset.
type DatastoreUsage struct {
	Store string
	// Total, Used and Avail are bytes of the file system holding the
	// datastore (unset when HasUsage is false).
	Total, Used, Avail uint64
	// HasUsage tells whether the server sent the sizes.
	HasUsage bool
	// History holds the usage (0..1) of the last month, oldest first, one
	// value per HistoryDelta from HistoryStart; NaN where there is no
	// sample. Nil when the server keeps no statistics.
	History      []float64
	HistoryStart time.Time
	HistoryDelta time.Duration
	// EstimatedFullDate is when the datastore fills up at the current
	// trend; the zero time when unknown, a time in the past when usage is
	// not growing.
	EstimatedFullDate time.Time
	// Error says why the datastore could not be looked up ("" if it could).
	Error string
	// GCStatus is the result of the last garbage collection, if any.
	GCStatus *datastore.GCStatus
}

// UnmarshalJSON decodes PBS's DataStoreStatusListItem.
func (d *DatastoreUsage) UnmarshalJSON(b []byte) error {
	var w struct {
		Store             string              `json:"store"`
		Total             *uint64             `json:"total"`
		Used              *uint64             `json:"used"`
		Avail             *uint64             `json:"avail"`
		History           []*float64          `json:"history"`
		HistoryStart      *int64              `json:"history-start"`
		HistoryDelta      *uint64             `json:"history-delta"`
		EstimatedFullDate *int64              `json:"estimated-full-date"`
		Error             string              `json:"error"`
		GCStatus          *datastore.GCStatus `json:"gc-status"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	if w.Store == "" {
		return fmt.Errorf("pbs: datastore usage item without store name")
	}
	*d = DatastoreUsage{Store: w.Store, Error: w.Error, GCStatus: w.GCStatus}
	if w.Total != nil || w.Used != nil || w.Avail != nil {
		d.HasUsage = true
		d.Total, d.Used, d.Avail = dsDerefU64(w.Total), dsDerefU64(w.Used), dsDerefU64(w.Avail)
	}
	if w.History != nil {
		d.History = make([]float64, len(w.History))
		for i, v := range w.History {
			d.History[i] = math.NaN()
			if v != nil {
				d.History[i] = *v
			}
		}
	}
	if w.HistoryStart != nil {
		d.HistoryStart = dsEpoch(*w.HistoryStart)
	}
	if w.HistoryDelta != nil {
		if *w.HistoryDelta > uint64(math.MaxInt64/int64(time.Second)) {
			return fmt.Errorf("pbs: history-delta %d out of range", *w.HistoryDelta)
		}
		d.HistoryDelta = time.Duration(*w.HistoryDelta) * time.Second
	}
	if w.EstimatedFullDate != nil {
		d.EstimatedFullDate = dsEpoch(*w.EstimatedFullDate)
	}
	return nil
}

// List returns the datastores the caller can see: those where it holds
// Datastore.Audit or Datastore.Backup (with comment), and by name only those
// where it holds a datastore privilege on some namespace below.
//
// PBS: GET /admin/datastore (any authenticated caller; the list is filtered)
func (s *DatastoreService) List(ctx context.Context) ([]DatastoreInfo, error) {
	return dsCall[[]DatastoreInfo](ctx, s.c, http.MethodGet, "/admin/datastore", nil)
}

// Usage returns the usage of every datastore the caller can see, as the
// dashboard shows it.
//
// PBS: GET /status/datastore-usage (full entries need Datastore.Audit or
// Datastore.Backup on /datastore/{store}; a privilege on a namespace below
// shows the name only)
func (s *DatastoreService) Usage(ctx context.Context) ([]DatastoreUsage, error) {
	return dsCall[[]DatastoreUsage](ctx, s.c, http.MethodGet, "/status/datastore-usage", nil)
}

// Status returns the file system usage of store; with verbose also the
// last garbage collection status and the group and snapshot counts (of the
// caller's own groups unless it holds Datastore.Audit).
//
// PBS: GET /admin/datastore/{store}/status (needs Datastore.Audit or
// Datastore.Backup on /datastore/{store} for the sizes; Datastore.Read, or
// any datastore privilege on a namespace below, gives counts only and zero
// sizes; nothing at all is a 403)
func (s *DatastoreService) Status(ctx context.Context, store string, verbose bool) (*datastore.StoreStatus, error) {
	var v httpapi.Values
	if verbose {
		v.SetBool("verbose", true)
	}
	var out datastore.StoreStatus
	if err := s.c.api.Get(ctx, dsStorePath(store, "status"), v, &out); err != nil {
		return nil, wrapError(err)
	}
	return &out, nil
}

// dsCall sends method path with params and decodes "data" into a T; on
// failure it returns the zero T and the error (an *Error for answers of
// the server).
func dsCall[T any](ctx context.Context, c *Client, method, path string, params any) (T, error) {
	var out T
	if _, err := c.call(ctx, method, path, params, &out); err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

// dsStorePath is /admin/datastore/{store}/{sub...}.
func dsStorePath(store string, sub ...string) string {
	return httpapi.JoinPath(append([]string{"admin", "datastore", store}, sub...)...)
}

// dsSetNS sets the namespace parameter key unless ns is the root, as the
// reference client does.
func dsSetNS(v *httpapi.Values, key string, ns datastore.Namespace) {
	if !ns.IsRoot() {
		v.Set(key, ns.String())
	}
}

// dsGroupValues returns the parameters naming group g in ns, after checking g.
func dsGroupValues(ns datastore.Namespace, g datastore.Group) (httpapi.Values, error) {
	var v httpapi.Values
	if err := g.Validate(); err != nil {
		return v, fmt.Errorf("pbs: %w", err)
	}
	dsSetNS(&v, "ns", ns)
	v.Set("backup-type", string(g.Type))
	v.Set("backup-id", g.ID)
	return v, nil
}

// dsSnapshotValues returns the parameters naming snapshot snap in ns.
func dsSnapshotValues(ns datastore.Namespace, snap datastore.Snapshot) (httpapi.Values, error) {
	v, err := dsGroupValues(ns, snap.Group)
	if err != nil {
		return v, err
	}
	if snap.Time.IsZero() {
		return v, fmt.Errorf("pbs: snapshot %s has no backup time: %w", snap.Group, datastore.ErrBadName)
	}
	v.SetInt("backup-time", snap.Time.Unix())
	return v, nil
}

// dsEpoch converts an epoch from the API to a UTC time.
func dsEpoch(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

func dsDerefU64(p *uint64) uint64 {
	if p == nil {
		return 0
	}
	return *p
}
