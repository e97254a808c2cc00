package pbstest

import (
	"net/http"
	"strconv"

	"github.com/proxkit/proxkit/internal/mockcore"
)

// readerEndpoints are the subdirectories of a reader session, as PBS
// lists them for GET /.
var readerEndpoints = []string{"chunk", "download", "speedtest"}

// handler returns the HTTP/2 handler of a reader session (pbs-protocol.md
// 4.2), with the server's faults in front; drop ends the connection.
func (rs *readerSession) handler(faults *faultSet, drop func()) http.Handler {
	rt := mockcore.NewRouter("", http.HandlerFunc(mockcore.WritePBSNotFound))
	rt.Handle("GET", "/{$}", serveSubdirs(readerEndpoints))
	rt.Handle("GET", "/download", rs.serveDownload)
	rt.Handle("GET", "/chunk", rs.serveChunk)
	rt.Handle("GET", "/speedtest", rs.serveSpeedtest)
	return withFaults(faults, drop, mockcore.PBSPaths(rt))
}

func (rs *readerSession) serveDownload(w http.ResponseWriter, r *http.Request) {
	p := uploadParams(r)
	p.RejectUnknown("file-name")
	p.Require("file-name")
	name, _ := safeIDParam(p, "file-name")
	if err := p.Err(); err != nil {
		reply(w, nil, err)
		return
	}
	f, err := rs.download(name)
	if err != nil {
		reply(w, nil, err)
		return
	}
	serveFile(w, f)
}

func (rs *readerSession) serveChunk(w http.ResponseWriter, r *http.Request) {
	p := uploadParams(r)
	p.RejectUnknown("digest")
	p.Require("digest")
	d, _ := digestParam(p, "digest")
	if err := p.Err(); err != nil {
		reply(w, nil, err)
		return
	}
	data, err := rs.chunk(d)
	if err != nil {
		reply(w, nil, err)
		return
	}
	writeOctets(w, data)
	rs.bufs.putBody(data)
}

func (rs *readerSession) serveSpeedtest(w http.ResponseWriter, r *http.Request) {
	writeOctets(w, rs.speedtest())
}

// writeOctets writes a raw application/octet-stream answer.
func writeOctets(w http.ResponseWriter, data []byte) {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
}
