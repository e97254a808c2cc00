package main

import (
	"fmt"
	"io"
	"strings"
)

// narrator prints the story: numbered steps, indented results.
type narrator struct {
	w    io.Writer
	step int
}

// section starts a part of the story.
func (n *narrator) section(format string, args ...any) {
	n.step = 0
	fmt.Fprintf(n.w, "\n== %s\n", fmt.Sprintf(format, args...))
}

// stepf starts a numbered step.
func (n *narrator) stepf(format string, args ...any) {
	n.step++
	fmt.Fprintf(n.w, "%d. %s\n", n.step, fmt.Sprintf(format, args...))
}

// sayf prints an indented line (each line of a multi-line text indented).
func (n *narrator) sayf(format string, args ...any) {
	for _, line := range strings.Split(strings.TrimRight(fmt.Sprintf(format, args...), "\n"), "\n") {
		fmt.Fprintf(n.w, "   %s\n", line)
	}
}

// refused prints an expected error with its lines indented.
func (n *narrator) refused(err error) {
	msg := strings.TrimRight(err.Error(), "\n")
	// Put the clients' hints on a line of their own.
	if before, hint, ok := strings.Cut(msg, " (hint: "); ok {
		msg = before + "\nhint: " + strings.TrimSuffix(hint, ")")
	}
	lines := strings.Split(msg, "\n")
	n.sayf("-> refused: %s", lines[0])
	for _, l := range lines[1:] {
		n.sayf("   %s", strings.TrimSpace(l))
	}
}
