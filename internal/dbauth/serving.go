package dbauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/internal/transport"
)

// servingRefresh is how long a token read from the Model Serving file is
// used before the file is read again (databricks-sdk: 300 s).
const servingRefresh = 5 * time.Minute

// maxServingFile bounds the token file read.
const maxServingFile = 1 << 20

// servingToken reads the Model Serving OAuth token file
// {"OAUTH_TOKEN":[{"oauthTokenValue":"..."}]}, which the platform rotates.
type servingToken struct {
	path string
	now  func() time.Time

	mu     sync.Mutex
	token  string
	readAt time.Time
}

func newServingToken(path string, now func() time.Time) *servingToken {
	return &servingToken{path: path, now: now}
}

var _ transport.Refresher = (*servingToken)(nil)

// String and GoString never show the token.
func (s *servingToken) String() string   { return "dbauth.model-serving(" + s.path + ")" }
func (s *servingToken) GoString() string { return s.String() }

func (s *servingToken) Authorize(r *http.Request) error {
	tok, err := s.get()
	if err != nil {
		return err
	}
	r.Header.Set("Authorization", "Bearer "+tok)
	return nil
}

func (s *servingToken) get() (string, error) {
	s.mu.Lock()
	now := s.now()
	cached, fresh := s.token, s.token != "" && now.Sub(s.readAt) < servingRefresh
	s.mu.Unlock()
	if fresh {
		return cached, nil
	}
	// The file is read without the lock; concurrent readers of a stale
	// token may each read it once.
	tok, err := readServingToken(s.path)
	if err != nil {
		if cached != "" {
			// Mid-rotation or briefly unreadable: keep the last token; the
			// server says (401) when it is no longer good.
			return cached, nil
		}
		return "", err
	}
	s.mu.Lock()
	s.token, s.readAt = tok, now
	s.mu.Unlock()
	return tok, nil
}

// Invalidate makes the next request read the file again when the rejected
// request carried the cached token.
func (s *servingToken) Invalidate(rejected *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != "" && rejected.Header.Get("Authorization") == "Bearer "+s.token {
		s.token = ""
	}
}

func readServingToken(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("databricks model serving: read token file: %w", err)
	}
	defer f.Close()
	var v struct {
		OAuthToken []struct {
			Value string `json:"oauthTokenValue"`
		} `json:"OAUTH_TOKEN"`
	}
	// The decoder's errors name offsets and types, never the file content.
	dec := json.NewDecoder(io.LimitReader(f, maxServingFile))
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("databricks model serving: token file %s is not the expected JSON", path)
	}
	if len(v.OAuthToken) == 0 || v.OAuthToken[0].Value == "" {
		return "", errors.New("databricks model serving: token file " + path + " holds no OAUTH_TOKEN[0].oauthTokenValue")
	}
	return v.OAuthToken[0].Value, nil
}
