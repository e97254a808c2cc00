package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// speedResult is one measurement in bytes per second and the reference
// figure it is compared with. Speed is nil for a test that did not run.
type speedResult struct {
	Speed *float64 `json:"speed,omitempty"`
	Top   float64  `json:"top"`
}

// results has the fields and JSON names of proxmox-backup-client's
// benchmark output, so the JSON of both tools can be diffed.
type results struct {
	TLS        speedResult `json:"tls"`
	SHA256     speedResult `json:"sha256"`
	Compress   speedResult `json:"compress"`
	Decompress speedResult `json:"decompress"`
	AES256GCM  speedResult `json:"aes256_gcm"`
	Verify     speedResult `json:"verify"`
}

// referenceResults are proxmox-backup-client's "2020 top" figures, measured
// upstream on an AMD Ryzen 7 2700X; the percentages compare with them.
func referenceResults() results {
	return results{
		TLS:        speedResult{Top: 1235e6},
		SHA256:     speedResult{Top: 2022e6},
		Compress:   speedResult{Top: 752e6},
		Decompress: speedResult{Top: 1198e6},
		AES256GCM:  speedResult{Top: 3645e6},
		Verify:     speedResult{Top: 758e6},
	}
}

// rows are the table lines in upstream's order and wording.
func (r *results) rows() [][2]string {
	return [][2]string{
		{"TLS (maximal backup upload speed)", r.TLS.String()},
		{"SHA256 checksum computation speed", r.SHA256.String()},
		{"ZStd level 1 compression speed", r.Compress.String()},
		{"ZStd level 1 decompression speed", r.Decompress.String()},
		{"Chunk verification speed", r.Verify.String()},
		{"AES256 GCM encryption speed", r.AES256GCM.String()},
	}
}

// String renders "1267.41 MB/s (103%)" (decimal megabytes, as upstream),
// or "not tested".
func (s speedResult) String() string {
	if s.Speed == nil {
		return "not tested"
	}
	return fmt.Sprintf("%.2f MB/s (%.0f%%)", *s.Speed/1e6, *s.Speed*100/s.Top)
}

// writeResults prints r as format: "text" (the box table), "json" or
// "json-pretty", the output formats of proxmox-backup-client.
func writeResults(w io.Writer, r *results, format string) error {
	switch format {
	case "text", "":
		_, err := io.WriteString(w, renderTable([]string{"Name", "Value"}, r.rows()))
		return err
	case "json":
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	case "json-pretty":
		b, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	return fmt.Errorf("unknown output format %q (want text, json or json-pretty)", format)
}

// renderTable draws a two-column table with the box characters
// proxmox-backup-client uses: cells padded by one space, values left
// aligned, a double rule under the header and a rule between rows.
func renderTable(header []string, rows [][2]string) string {
	w := [2]int{utf8.RuneCountInString(header[0]), utf8.RuneCountInString(header[1])}
	for _, r := range rows {
		for i := range w {
			w[i] = max(w[i], utf8.RuneCountInString(r[i]))
		}
	}
	var b strings.Builder
	rule := func(left, fill, mid, right string) {
		b.WriteString(left + strings.Repeat(fill, w[0]+2) + mid + strings.Repeat(fill, w[1]+2) + right + "\n")
	}
	line := func(c [2]string) {
		pad := func(s string, n int) string { return s + strings.Repeat(" ", n-utf8.RuneCountInString(s)) }
		b.WriteString("│ " + pad(c[0], w[0]) + " │ " + pad(c[1], w[1]) + " │\n")
	}
	rule("┌", "─", "┬", "┐")
	line([2]string{header[0], header[1]})
	rule("╞", "═", "╪", "╡")
	for i, r := range rows {
		if i > 0 {
			rule("├", "─", "┼", "┤")
		}
		line(r)
	}
	rule("└", "─", "┴", "┘")
	return b.String()
}
