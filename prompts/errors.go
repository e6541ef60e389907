package prompts

import (
	"errors"
	"regexp"

	"github.com/mlflowtrace/mlflowtrace-go/internal/transport"
)

// ErrNotFound is matched (errors.Is) by the error of a Load whose prompt,
// version or alias does not exist, or whose name is a registered model, not
// a prompt: the cases where MLflow's load_prompt(allow_missing=True)
// returns None.
var ErrNotFound = errors.New("not found")

// ErrInvalid is matched by the error of a request MLflow refuses before
// asking the registry: a malformed prompt URI, a version given with a URI, a
// negative cache TTL.
var ErrInvalid = errors.New("invalid request")

// Error is an error MLflow's load_prompt raises, with MLflow's error code and
// message ("RESOURCE_DOES_NOT_EXIST", "RESOURCE_DOES_NOT_EXIST: Prompt with
// name=qa not found"). It matches ErrNotFound or ErrInvalid as described
// there.
type Error struct {
	// Code is MLflow's error code.
	Code string
	// Message is the exception's text as Python prints it (str(e)).
	Message string
	kind    error // ErrNotFound, ErrInvalid or nil
	err     error // the registry's answer, if any
}

// Error returns "prompts: " and MLflow's message.
func (e *Error) Error() string { return "prompts: " + e.Message }

// Is reports whether target is the kind of the error (ErrNotFound,
// ErrInvalid).
func (e *Error) Is(target error) bool { return e.kind != nil && target == e.kind }

// Unwrap returns the registry's answer (a transport error), if any.
func (e *Error) Unwrap() error { return e.err }

func invalid(code, msg string) *Error { return &Error{Code: code, Message: msg, kind: ErrInvalid} }

// modelWords is what MLflow's translate_prompt_exception turns into
// "Prompt": the registry is the model registry, and its messages speak of
// registered models and model versions.
var modelWords = regexp.MustCompile(`(?i)(registered model|model version)`)

// registryError is the error a failed registry call makes, as MLflow's
// client raises it: a RestException ("<CODE>: <message>") whose message
// says "Prompt" for "Registered Model" and "Model Version". Codes for which
// load_prompt(allow_missing=True) returns None match ErrNotFound. An error
// without an MLflow answer (the network) is returned as it is.
func registryError(err error) error {
	var te *transport.Error
	if !errors.As(err, &te) || te.ErrorCode == "" {
		return err
	}
	msg := modelWords.ReplaceAllStringFunc(te.ErrorCode+": "+te.Message, func(m string) string {
		if m[0] >= 'A' && m[0] <= 'Z' {
			return "Prompt"
		}
		return "prompt"
	})
	e := &Error{Code: te.ErrorCode, Message: msg, err: err}
	switch te.ErrorCode {
	case "RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND":
		e.kind = ErrNotFound
	}
	return e
}

// notFound is an ErrNotFound error raised by MLflow's client itself.
func notFound(code, msg string) *Error { return &Error{Code: code, Message: msg, kind: ErrNotFound} }
