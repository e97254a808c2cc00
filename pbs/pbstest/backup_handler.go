package pbstest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/proxkit/proxkit/auth"
	"github.com/proxkit/proxkit/internal/mockcore"
)

// backupEndpoints are the subdirectories of a backup session, in the
// order PBS lists them for GET / (pbs-protocol.md 3.2, 3.4).
var backupEndpoints = []string{
	"blob", "dynamic_chunk", "dynamic_close", "dynamic_index", "finish",
	"fixed_chunk", "fixed_close", "fixed_index", "previous",
	"previous_backup_time", "speedtest",
}

// maxBlobBody bounds what a blob upload reads before the length check.
const maxBlobBody = maxEncodedSize + 1

// handler returns the HTTP/2 handler of the session: the endpoints of
// pbs-protocol.md 3.4 below the session root, with PBS's path
// normalization, its 404 for anything else, and the server's faults in
// front. drop ends the session's connection (for Drop faults).
func (s *backupSession) handler(faults *faultSet, drop func()) http.Handler {
	rt := mockcore.NewRouter("", http.HandlerFunc(mockcore.WritePBSNotFound))
	rt.Handle("GET", "/{$}", serveSubdirs(backupEndpoints))
	rt.Handle("GET", "/previous_backup_time", s.servePreviousTime)
	rt.Handle("GET", "/previous", s.servePrevious)
	rt.Handle("POST", "/blob", s.serveBlob)
	rt.Handle("POST", "/fixed_index", s.serveFixedCreate)
	rt.Handle("PUT", "/fixed_index", s.serveAppend(true))
	rt.Handle("POST", "/fixed_chunk", s.serveChunk(true))
	rt.Handle("POST", "/fixed_close", s.serveClose(true))
	rt.Handle("POST", "/dynamic_index", s.serveDynamicCreate)
	rt.Handle("PUT", "/dynamic_index", s.serveAppend(false))
	rt.Handle("POST", "/dynamic_chunk", s.serveChunk(false))
	rt.Handle("POST", "/dynamic_close", s.serveClose(false))
	rt.Handle("POST", "/finish", s.serveFinish)
	rt.Handle("POST", "/speedtest", serveSpeedtestUpload)
	return withFaults(faults, drop, mockcore.PBSPaths(rt))
}

// withFaults puts the server's faults in front of a session handler.
func withFaults(faults *faultSet, drop func(), next http.Handler) http.Handler {
	if faults == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dropHere := func() {
			drop()
			waitDropped(r.Context())
		}
		if faults.hit(r.URL.Path, false).apply(r.Context(), w, dropHere) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

// dropWait bounds how long a dropped request waits for its connection
// to go.
const dropWait = 10 * time.Second

// waitDropped holds a request whose session was just dropped until the
// connection is gone (its context ends): returning earlier would let the
// HTTP/2 server answer it with an empty 200.
func waitDropped(ctx context.Context) {
	t := time.NewTimer(dropWait)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
		panic(http.ErrAbortHandler) // resets at least this stream
	}
}

// serveSubdirs answers GET / of a session: {"data":[{"subdir":"blob"},...]}.
func serveSubdirs(names []string) http.HandlerFunc {
	list := make([]map[string]string, len(names))
	for i, n := range names {
		list[i] = map[string]string{"subdir": n}
	}
	return func(w http.ResponseWriter, r *http.Request) {
		mockcore.WritePBSData(w, list, nil)
	}
}

// apiParams reads the parameters of an ordinary session method (query,
// form or JSON body, by Content-Type) and rejects unknown ones.
func apiParams(w http.ResponseWriter, r *http.Request) (*mockcore.Params, bool) {
	p, err := mockcore.ParsePBSParams(r)
	if err != nil {
		mockcore.WritePBSFailure(w, err)
		return nil, false
	}
	return p, true
}

// uploadParams reads the parameters of an upload or download method,
// which come only from the query string.
func uploadParams(r *http.Request) *mockcore.Params {
	return mockcore.ParseQueryParams(auth.PBS, r)
}

// reply writes data, or err in PBS's error format.
func reply(w http.ResponseWriter, data any, err error) {
	if err != nil {
		mockcore.WritePBSFailure(w, err)
		return
	}
	mockcore.WritePBSData(w, data, nil)
}

// serveFile streams f as a raw download and closes it.
func serveFile(w http.ResponseWriter, f *os.File) {
	defer f.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	if st, err := f.Stat(); err == nil {
		w.Header().Set("Content-Length", strconv.FormatInt(st.Size(), 10))
	}
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, f)
}

func (s *backupSession) servePreviousTime(w http.ResponseWriter, r *http.Request) {
	p, ok := apiParams(w, r)
	if !ok {
		return
	}
	p.RejectUnknown()
	if err := p.Err(); err != nil {
		reply(w, nil, err)
		return
	}
	reply(w, s.previousBackupTime(), nil)
}

func (s *backupSession) servePrevious(w http.ResponseWriter, r *http.Request) {
	p := uploadParams(r)
	p.RejectUnknown("archive-name")
	p.Require("archive-name")
	name, _ := safeIDParam(p, "archive-name")
	if err := p.Err(); err != nil {
		reply(w, nil, err)
		return
	}
	f, err := s.previous(name)
	if err != nil {
		reply(w, nil, err)
		return
	}
	serveFile(w, f)
}

func (s *backupSession) serveBlob(w http.ResponseWriter, r *http.Request) {
	b, err := decodeBlobUpload(uploadParams(r))
	if err != nil {
		reply(w, nil, err)
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBlobBody))
	if err != nil {
		reply(w, nil, errors.New("reading uploaded blob failed: "+err.Error()))
		return
	}
	reply(w, nil, s.uploadBlob(b, data))
}

func (s *backupSession) serveFixedCreate(w http.ResponseWriter, r *http.Request) {
	p, ok := apiParams(w, r)
	if !ok {
		return
	}
	c, err := decodeFixedCreate(p)
	if err != nil {
		reply(w, nil, err)
		return
	}
	wid, err := s.createFixed(c)
	reply(w, wid, err)
}

func (s *backupSession) serveDynamicCreate(w http.ResponseWriter, r *http.Request) {
	p, ok := apiParams(w, r)
	if !ok {
		return
	}
	name, err := decodeDynamicCreate(p)
	if err != nil {
		reply(w, nil, err)
		return
	}
	wid, err := s.createDynamic(name)
	reply(w, wid, err)
}

func (s *backupSession) serveChunk(fixed bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := decodeChunkUpload(uploadParams(r))
		if err != nil {
			reply(w, nil, err)
			return
		}
		d, err := s.uploadChunk(r.Context(), fixed, c, r.Body)
		reply(w, d.String(), err)
	}
}

// serveAppend decodes an append from its JSON body (the reference
// clients' form) or, with a form Content-Type, from its parameters.
func (s *backupSession) serveAppend(fixed bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req, err := readAppend(r)
		if err != nil {
			reply(w, nil, err)
			return
		}
		reply(w, nil, s.appendChunks(fixed, req))
	}
}

// readAppend reads the parameters of PUT fixed_index / dynamic_index.
func readAppend(r *http.Request) (appendRequest, error) {
	if !isJSON(r.Header.Get("Content-Type")) {
		p, err := mockcore.ParsePBSParams(r)
		if err != nil {
			return appendRequest{}, err
		}
		return decodeAppendParams(p)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, mockcore.MaxParamBody+1))
	switch {
	case err != nil:
		return appendRequest{}, mockcore.Errorf(http.StatusBadRequest, "Problems reading request body: %v", err)
	case len(body) > mockcore.MaxParamBody:
		return appendRequest{}, mockcore.Errorf(http.StatusBadRequest, "Request body too large")
	}
	return decodeAppendJSON(body)
}

func (s *backupSession) serveClose(fixed bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := apiParams(w, r)
		if !ok {
			return
		}
		c, err := decodeIndexClose(p, !fixed)
		if err != nil {
			reply(w, nil, err)
			return
		}
		if fixed {
			err = s.closeFixed(c)
		} else {
			err = s.closeDynamic(c)
		}
		reply(w, nil, err)
	}
}

func (s *backupSession) serveFinish(w http.ResponseWriter, r *http.Request) {
	p, ok := apiParams(w, r)
	if !ok {
		return
	}
	p.RejectUnknown()
	if err := p.Err(); err != nil {
		reply(w, nil, err)
		return
	}
	reply(w, nil, s.finish())
}

// serveSpeedtestUpload reads and discards the body (POST speedtest).
func serveSpeedtestUpload(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	reply(w, nil, nil)
}

// isJSON tells whether a Content-Type selects JSON parameters, as
// mockcore.ParsePBSParams decides it.
func isJSON(contentType string) bool {
	media, _, _ := strings.Cut(contentType, ";")
	return media == "application/json"
}
