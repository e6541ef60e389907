package tracemodel

import "errors"

// TraceError is the failure of one trace of a batch. A destination whose
// ExportTraces returns only TraceErrors (one, or several joined with
// errors.Join) says that the batch's other traces were written; any other
// error means the whole batch failed.
type TraceError struct {
	TraceID string // "tr-…", as in TraceInfo.TraceID
	Err     error  // its text is the error's whole message
}

func (e *TraceError) Error() string { return e.Err.Error() }

func (e *TraceError) Unwrap() error { return e.Err }

// FailedTraces returns the ids of the traces err names as failed when err
// consists only of TraceErrors, and ok false when err is anything else (the
// whole batch failed, or err is nil).
func FailedTraces(err error) (ids map[string]bool, ok bool) {
	if err == nil {
		return nil, false
	}
	errs := []error{err}
	if j, isJoin := err.(interface{ Unwrap() []error }); isJoin {
		errs = j.Unwrap()
	}
	ids = make(map[string]bool, len(errs))
	for _, e := range errs {
		var te *TraceError
		if !errors.As(e, &te) || te.TraceID == "" {
			return nil, false
		}
		ids[te.TraceID] = true
	}
	return ids, len(ids) > 0
}
