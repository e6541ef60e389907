// Package exception lets an integration choose the exception type an error
// is recorded with (tracing.Span.RecordError records an error's dynamic Go
// type otherwise): an integration that records what an API answered — an
// error response, an error event of a stream — names it after the API
// ("openai.APIError") without exporting a Go type of that name.
package exception

// Named is an error recorded with exception type Type.
type Named struct {
	Type string
	Err  error
}

// New returns err recorded as exception type typ (nil for a nil err).
func New(typ string, err error) error {
	if err == nil {
		return nil
	}
	return &Named{Type: typ, Err: err}
}

func (e *Named) Error() string { return e.Err.Error() }

// Unwrap returns the error named.
func (e *Named) Unwrap() error { return e.Err }
