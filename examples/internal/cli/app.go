package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/proxkit/proxkit/auth"
)

// Exit statuses of the example programs.
const (
	ExitOK      = 0 // success
	ExitFailure = 1 // the job failed; stderr has the reason
	ExitUsage   = 2 // bad flags or arguments
)

// App is one run of an example program: its name, arguments, standard
// streams and environment. Main fills it from the process; tests build
// their own.
type App struct {
	Name   string         // program name, the prefix of the error line
	Args   []string       // arguments without the program name
	Stdin  io.Reader      // standard input
	Stdout io.Writer      // standard output: results only
	Stderr io.Writer      // standard error: errors and progress
	Lookup auth.LookupEnv // environment; nil means os.LookupEnv

	secrets []string // values scrubbed from the error line
}

// UsageError is a bad flag or argument; Run answers it with ExitUsage.
type UsageError struct {
	Msg string
}

// Error implements error.
func (e *UsageError) Error() string { return e.Msg }

// Usagef returns a *UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// Main runs run as the program name with the process's arguments, streams
// and environment, cancels its context on SIGINT or SIGTERM, and exits
// with Run's status.
func Main(name string, run func(ctx context.Context, app *App) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	app := &App{
		Name:   name,
		Args:   os.Args[1:],
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		Lookup: os.LookupEnv,
	}
	code := app.Run(ctx, run)
	stop()
	os.Exit(code)
}

// Run calls run and turns its error into the exit status and one line on
// Stderr: "NAME: reason", or "NAME: usage: …" followed by the synopsis for
// a *UsageError. flag.ErrHelp (-h) exits 0.
func (a *App) Run(ctx context.Context, run func(ctx context.Context, app *App) error) int {
	if a.Stdin == nil {
		a.Stdin = strings.NewReader("")
	}
	if a.Stdout == nil {
		a.Stdout = io.Discard
	}
	if a.Stderr == nil {
		a.Stderr = io.Discard
	}
	err := run(ctx, a)
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, flag.ErrHelp):
		return ExitOK
	}
	fmt.Fprintf(a.Stderr, "%s: %s\n", a.Name, a.OneLine(err))
	var usage *UsageError
	if errors.As(err, &usage) {
		return ExitUsage
	}
	return ExitFailure
}

// OneLine renders err on a single line: line breaks (the clients' errors
// put hints on lines of their own) become "; ", and every secret the
// program loaded through this package is replaced by "[redacted]", in case
// some server echoed it back.
func (a *App) OneLine(err error) string {
	lines := strings.FieldsFunc(a.scrub(err.Error()), func(r rune) bool { return r == '\n' || r == '\r' })
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	// Joining can put a secret together again (one starting with a space,
	// after a line break), so the line is scrubbed once more.
	return a.scrub(strings.Join(lines, "; "))
}

// scrub replaces every registered secret in s.
func (a *App) scrub(s string) string {
	for _, v := range a.secrets {
		s = strings.ReplaceAll(s, v, "[redacted]")
	}
	return s
}

// Redact registers a secret to be scrubbed from the error line. Loading
// settings through this package does it already; call it for secrets the
// program gets elsewhere (a newly created token's, for instance).
func (a *App) Redact(s auth.Secret) {
	// Very short values would scrub ordinary words; real secrets are long.
	if v := s.Reveal(); len(v) >= 4 {
		a.secrets = append(a.secrets, v)
	}
}

// Getenv returns an environment variable through Lookup ("" when unset).
func (a *App) Getenv(key string) string {
	v, _ := a.lookup()(key)
	return v
}

func (a *App) lookup() auth.LookupEnv {
	if a.Lookup == nil {
		return os.LookupEnv
	}
	return a.Lookup
}

// FlagSet returns a flag set for the program whose usage text starts with
// "usage: NAME synopsis" and which reports errors instead of exiting.
func (a *App) FlagSet(synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(a.Name, flag.ContinueOnError)
	fs.SetOutput(a.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s %s\n", a.Name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// Parse parses a.Args with fs. A bad flag is a *UsageError; -h prints the
// usage and returns flag.ErrHelp.
func (a *App) Parse(fs *flag.FlagSet) error {
	// The flag package would print the error and the whole usage text;
	// a failure gets only Run's one line, -h gets the usage.
	out := fs.Output()
	fs.SetOutput(io.Discard)
	err := fs.Parse(a.Args)
	fs.SetOutput(out)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		return err
	default:
		return &UsageError{Msg: err.Error() + " (see -h)"}
	}
}

// ParseArgs is Parse followed by Args: it parses a.Args with fs and
// returns the positional arguments, min to max of them (max < 0: no limit).
func (a *App) ParseArgs(fs *flag.FlagSet, min, max int) ([]string, error) {
	if err := a.Parse(fs); err != nil {
		return nil, err
	}
	return Args(fs, min, max)
}

// Args checks the number of positional arguments left after Parse.
func Args(fs *flag.FlagSet, min, max int) ([]string, error) {
	args := fs.Args()
	if len(args) < min || (max >= 0 && len(args) > max) {
		var want string
		switch {
		case min == max:
			want = fmt.Sprintf("%d", min)
		case max < 0:
			want = fmt.Sprintf("at least %d", min)
		default:
			want = fmt.Sprintf("%d to %d", min, max)
		}
		return nil, Usagef("want %s arguments, got %d (see -h)", want, len(args))
	}
	return args, nil
}
