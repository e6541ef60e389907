package transport

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Error is the failure of a call: an HTTP status other than 2xx (StatusCode
// set) or a transport failure (Err set). Its message never contains the
// credentials the Client was configured with.
type Error struct {
	Method string
	Path   string // request path without query
	// StatusCode is the last HTTP status, 0 when no response arrived.
	StatusCode int
	// ErrorCode is MLflow's error_code from a JSON error body
	// (e.g. "ENDPOINT_NOT_FOUND", "RESOURCE_ALREADY_EXISTS"), if any.
	ErrorCode string
	// Message is MLflow's message or a bounded prefix of the body.
	Message string
	// Attempts is how many times the request was sent.
	Attempts int
	// Retryable reports whether the last failure was transient.
	Retryable bool
	// BudgetExhausted is set when retrying stopped because the next wait
	// would pass the retry budget or the context deadline.
	BudgetExhausted bool
	// Err is the underlying transport error, if any.
	Err error

	errText string // Err's message, scrubbed
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(strings.ToLower(e.Method))
	b.WriteByte(' ')
	b.WriteString(e.Path)
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, ": status %d", e.StatusCode)
	}
	if e.ErrorCode != "" {
		b.WriteString(" ")
		b.WriteString(e.ErrorCode)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.errText)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	return b.String()
}

// Unwrap returns the underlying transport error.
func (e *Error) Unwrap() error { return e.Err }

// StatusCode returns the HTTP status of err's *Error, or 0.
func StatusCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

// ErrorCode returns MLflow's error_code of err's *Error, or "".
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.ErrorCode
	}
	return ""
}

const maxMessage = 512

// newError builds the error of a failed attempt; extra are secrets of this
// attempt (the credentials Authorize set, the query of a signed URL), scrubbed
// with the Client's own.
func (c *Client) newError(req *Request, status int, body []byte, err error, extra ...string) *Error {
	path, _, _ := strings.Cut(req.Path, "?")
	if req.URL != "" {
		path = "<malformed URL>"
		if u, perr := url.Parse(req.URL); perr == nil {
			path = redactURL(u)
			extra = append(extra, querySecrets(u)...)
		}
	}
	method := req.Method
	if method == "" {
		method = "GET"
	}
	scrub := func(s string) string { return scrubAll(c.scrub(s), extra) }
	e := &Error{Method: method, Path: scrub(path), StatusCode: status, Err: err}
	if len(body) > 0 {
		var mj struct {
			ErrorCode string `json:"error_code"`
			Message   string `json:"message"`
			Detail    any    `json:"detail"` // FastAPI routes (/v1/traces)
		}
		if json.Unmarshal(body, &mj) == nil && (mj.ErrorCode != "" || mj.Message != "" || mj.Detail != nil) {
			e.ErrorCode = mj.ErrorCode
			e.Message = mj.Message
			if e.Message == "" && mj.Detail != nil {
				if s, ok := mj.Detail.(string); ok {
					e.Message = s
				} else if d, err := json.Marshal(mj.Detail); err == nil {
					e.Message = string(d)
				}
			}
		} else {
			e.Message = string(body)
		}
		e.Message = scrub(truncate(strings.TrimSpace(e.Message), maxMessage))
	}
	if err != nil {
		e.errText = scrub(err.Error())
	}
	return e
}

// scrub removes every configured secret from s.
func (c *Client) scrub(s string) string { return scrubAll(s, c.secrets) }

// Scrub removes the Client's configured secrets from s (for messages built
// outside this package from a response or an error).
func (c *Client) Scrub(s string) string { return c.scrub(s) }

func scrubAll(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
