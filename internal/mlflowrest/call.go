package mlflowrest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/mlflowtrace/mlflowtrace-go/internal/transport"
)

// Call sends a JSON request through c — body encoded with encoding/json,
// or sent as it is when it is []byte, none when nil — and decodes the JSON
// answer into out (unless out is nil or the answer empty). A malformed
// answer is an error that starts with pkg ("traces: get /path: malformed
// response: …").
func Call(ctx context.Context, c *transport.Client, pkg, method, path string, body, out any) error {
	req := &transport.Request{Method: method, Path: path}
	if body != nil {
		b, ok := body.([]byte)
		if !ok {
			var err error
			if b, err = json.Marshal(body); err != nil {
				return err
			}
		}
		req.Body = b
		req.Header = http.Header{"Content-Type": {"application/json"}}
	}
	resp, err := c.Do(ctx, req)
	if err != nil {
		return err
	}
	// Not released: an out's UnmarshalJSON may keep what it read.
	if out == nil || len(bytes.TrimSpace(resp.Body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(resp.Body, out); err != nil {
		return fmt.Errorf("%s: %s %s: malformed response: %w", pkg, strings.ToLower(method), strings.SplitN(path, "?", 2)[0], err)
	}
	return nil
}
