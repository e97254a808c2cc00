package mockcore

import (
	"strings"

	"github.com/proxkit/proxkit/auth"
)

// FieldError is one parameter's problem.
type FieldError struct {
	Param   string
	Message string
}

// ParamError lists parameter problems in the order they were found.
// WritePVEFailure turns it into PVE's 400 with an "errors" object,
// WritePBSFailure into PBS's plain-text 400. It matches ErrParameter.
type ParamError struct {
	Product auth.Product
	Errors  []FieldError
}

// NewParamError returns a *ParamError with one entry.
func NewParamError(p auth.Product, param, msg string) *ParamError {
	return &ParamError{Product: p, Errors: []FieldError{{Param: param, Message: msg}}}
}

// Error uses the PBS wording, which is also the body PBS sends:
// "parameter verification failed - 'x': msg" for one problem, else
// "parameter verification failed:" followed by one "- 'x': msg" line each.
func (e *ParamError) Error() string {
	switch len(e.Errors) {
	case 0:
		return "parameter verification failed"
	case 1:
		return "parameter verification failed - '" + e.Errors[0].Param + "': " + e.Errors[0].Message
	}
	var b strings.Builder
	b.WriteString("parameter verification failed:")
	for _, fe := range e.Errors {
		b.WriteString("\n- '" + fe.Param + "': " + fe.Message)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrParameter) true.
func (e *ParamError) Is(target error) bool { return target == ErrParameter }

// Map returns parameter -> message, the "errors" object of PVE's reply.
// When a parameter has several problems the first one is kept.
func (e *ParamError) Map() map[string]string {
	m := make(map[string]string, len(e.Errors))
	for _, fe := range e.Errors {
		if _, dup := m[fe.Param]; !dup {
			m[fe.Param] = fe.Message
		}
	}
	return m
}
