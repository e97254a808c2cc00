package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progressEvery is how often a progress line is redrawn at most.
const progressEvery = 200 * time.Millisecond

// Progress draws one self-overwriting status line, and only on a
// terminal: scripts reading a program's output never see it. It is safe
// for concurrent use (progress callbacks may come from worker goroutines).
type Progress struct {
	mu    sync.Mutex
	w     io.Writer
	on    bool
	now   func() time.Time
	last  time.Time
	width int // length of the line drawn last, to blank it out
}

// NewProgress returns a progress line on w that draws only when on.
func NewProgress(w io.Writer, on bool) *Progress {
	return &Progress{w: w, on: on, now: time.Now}
}

// Progress returns a progress line on Stderr, drawn only when Stderr is a
// terminal.
func (a *App) Progress() *Progress {
	return NewProgress(a.Stderr, IsTerminal(a.Stderr))
}

// IsTerminal reports whether w is a character device such as a terminal
// (not a file, pipe or buffer).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Printf redraws the line with the formatted text, at most every 200ms.
func (p *Progress) Printf(format string, args ...any) {
	if p == nil || !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if !p.last.IsZero() && now.Sub(p.last) < progressEvery {
		return
	}
	p.last = now
	line := fmt.Sprintf(format, args...)
	pad := ""
	if n := p.width - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	p.width = len(line)
	fmt.Fprintf(p.w, "\r%s%s", line, pad)
}

// Done blanks the line, so that what is printed next starts clean.
func (p *Progress) Done() {
	if p == nil || !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.width > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.width))
		p.width = 0
	}
	p.last = time.Time{}
}

// Bytes formats a byte count with binary units: "512 B", "1.50 MiB".
func Bytes(n int64) string {
	const unit = 1024
	if n < unit && n > -unit {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n)
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB"} {
		v /= unit
		if v < unit && v > -unit {
			return fmt.Sprintf("%.2f %s", v, u)
		}
	}
	return fmt.Sprintf("%.2f PiB", v/unit)
}

// Rate formats n bytes in d as "12.34 MiB/s" ("-" for a zero duration).
func Rate(n int64, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return Bytes(int64(float64(n)/d.Seconds())) + "/s"
}
