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

// ErrReportedBefore marks a failure a destination has already returned once
// (a configuration problem: an MLflow 2.x server, an artifact location it
// cannot write to). The traces it names are not delivered and count as
// failed, but the error handler is told only once.
var ErrReportedBefore = errors.New("reported before")

// Repeated returns err marked with ErrReportedBefore; its message is err's.
func Repeated(err error) error {
	if err == nil {
		return nil
	}
	return &repeated{err}
}

type repeated struct{ err error }

func (r *repeated) Error() string        { return r.err.Error() }
func (r *repeated) Unwrap() error        { return r.err }
func (r *repeated) Is(target error) bool { return target == ErrReportedBefore }

// OnlyRepeated reports whether err (one error, or several joined) consists
// only of failures marked with ErrReportedBefore: nothing new to report.
func OnlyRepeated(err error) bool {
	if err == nil {
		return false
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs := j.Unwrap()
		for _, e := range errs {
			if !OnlyRepeated(e) {
				return false
			}
		}
		return len(errs) > 0
	}
	return errors.Is(err, ErrReportedBefore)
}
