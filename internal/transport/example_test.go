package transport_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"

	"github.com/mlflowtrace/mlflowtrace-go/internal/transport"
)

func Example() {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable) // transient: retried
			return
		}
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()

	cfg := transport.Config{URL: srv.URL, Token: transport.Ptr("secret")}
	c, err := transport.New(cfg)
	if err != nil {
		panic(err)
	}
	defer c.CloseIdleConnections()
	resp, err := c.Do(context.Background(), &transport.Request{Method: "POST", Path: "/api/x", Body: []byte(`{}`)})
	fmt.Println(string(resp.Body), err, calls.Load())
	// Output: {"ok":true} <nil> 2
}
