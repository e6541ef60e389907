package dbauth

import (
	"encoding/base64"
	"net/http"

	"github.com/mlflowtrace/mlflowtrace-go/internal/transport"
)

// staticToken is a personal access token: "Authorization: Bearer <token>".
// A 401 cannot be cured by asking again, so it is not a Refresher.
type staticToken struct{ header string }

func newStaticToken(token string) *staticToken { return &staticToken{header: "Bearer " + token} }

func (s *staticToken) Authorize(r *http.Request) error {
	r.Header.Set("Authorization", s.header)
	return nil
}

// String and GoString never show the token.
func (s *staticToken) String() string   { return "dbauth.pat" }
func (s *staticToken) GoString() string { return s.String() }

var _ transport.Credentials = (*staticToken)(nil)

func basicAuth(user, pass string) transport.CredentialsFunc {
	h := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	return func(r *http.Request) error {
		r.Header.Set("Authorization", h)
		return nil
	}
}

// customCredentials is the caller's function (auth type custom), e.g.
// databricks-sdk-go's config.Config.Authenticate. We cannot see its cache, so
// after a 401 the call is sent once more and the function asked again: a
// function that refreshes its own token (the SDK's does, on expiry) gets its
// chance; one that cannot costs one extra request per rejected call.
type customCredentials func(*http.Request) error

func (f customCredentials) Authorize(r *http.Request) error { return f(r) }

// Invalidate has nothing to drop: the function owns its token.
func (customCredentials) Invalidate(*http.Request) {}

func (customCredentials) String() string { return "dbauth.custom" }

var _ transport.Refresher = customCredentials(nil)
