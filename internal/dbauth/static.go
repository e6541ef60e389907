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

// String never shows the token.
func (s *staticToken) String() string { return "dbauth.pat" }

var _ transport.Credentials = (*staticToken)(nil)

func basicAuth(user, pass string) transport.CredentialsFunc {
	h := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	return func(r *http.Request) error {
		r.Header.Set("Authorization", h)
		return nil
	}
}
