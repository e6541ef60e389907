package transport

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// maxRoundTripBody bounds the request body HTTPClient accepts (token
// requests are a few hundred bytes).
const maxRoundTripBody = 1 << 20

// HTTPClient returns an *http.Client that sends every request through c.Do as
// an absolute-URL request (Request.URL): retries, backoff, timeouts, bounded
// reads and redacted errors, but neither c's headers nor its credentials. It
// is for libraries that take an *http.Client, such as golang.org/x/oauth2.
// A status other than 2xx is returned as an error (*Error), never as a
// response.
func (c *Client) HTTPClient() *http.Client {
	return &http.Client{Transport: roundTripper{c}}
}

type roundTripper struct{ c *Client }

func (rt roundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		b, err := readBounded(r.Body, requestBodySize(r), maxRoundTripBody)
		_ = r.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("transport: read request body: %w", err)
		}
		body = b
	}
	resp, err := rt.c.Do(r.Context(), &Request{Method: r.Method, URL: r.URL.String(), Header: r.Header.Clone(), Body: body})
	if err != nil {
		return nil, err
	}
	return &http.Response{
		Status:        strconv.Itoa(resp.StatusCode) + " " + http.StatusText(resp.StatusCode),
		StatusCode:    resp.StatusCode,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        resp.Header,
		Body:          io.NopCloser(bytes.NewReader(resp.Body)),
		ContentLength: int64(len(resp.Body)),
		Request:       r,
	}, nil
}

// requestBodySize is r's announced body length, -1 when unknown (an
// outgoing request's 0 with a body means unknown).
func requestBodySize(r *http.Request) int64 {
	if r.ContentLength > 0 {
		return r.ContentLength
	}
	return -1
}
