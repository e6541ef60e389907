package mlflowrest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"

	"github.com/mlflowtrace/mlflowtrace-go/internal/transport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRaceWithAnotherCreator: the experiment is missing at the first lookup,
// another process creates it before us (RESOURCE_ALREADY_EXISTS), we look it
// up again; concurrent callers share one resolution.
func TestRaceWithAnotherCreator(t *testing.T) {
	var gets, creates atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case PathGetByName:
			if r.URL.Query().Get("experiment_name") != "/Users/a@b.c/agent" {
				t.Errorf("name = %q", r.URL.Query().Get("experiment_name"))
			}
			if gets.Add(1) == 1 {
				w.WriteHeader(404)
				_, _ = io.WriteString(w, `{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"no such experiment"}`)
				return
			}
			_, _ = io.WriteString(w, `{"experiment":{"experiment_id":"42","lifecycle_stage":"active"}}`)
		case PathCreate:
			creates.Add(1)
			w.WriteHeader(400)
			_, _ = io.WriteString(w, `{"error_code":"RESOURCE_ALREADY_EXISTS","message":"exists"}`)
		}
	}))
	defer srv.Close()
	c, err := transport.New(transport.Config{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	r := NewResolver(c, "7", "/Users/a@b.c/agent", "0")
	var wg sync.WaitGroup
	ids := make([]string, 8)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids[i], _ = r.ID(context.Background())
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != "42" {
			t.Fatalf("ids = %v", ids)
		}
	}
	if gets.Load() != 2 || creates.Load() != 1 || r.Resolved() != "42" {
		t.Errorf("gets %d creates %d resolved %q", gets.Load(), creates.Load(), r.Resolved())
	}
}

func TestIDAndDefault(t *testing.T) {
	c, _ := transport.New(transport.Config{URL: "http://127.0.0.1:1"})
	for _, tc := range []struct{ id, def, want string }{{"5", "0", "5"}, {"", "0", "0"}} {
		r := NewResolver(c, tc.id, "", tc.def)
		if got, err := r.ID(context.Background()); err != nil || got != tc.want {
			t.Errorf("%+v: %q %v", tc, got, err)
		}
	}
}

func ExampleByName() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"experiment":{"experiment_id":"3","lifecycle_stage":"active"}}`)
	}))
	defer srv.Close()
	c, _ := transport.New(transport.Config{URL: srv.URL})
	defer c.CloseIdleConnections()
	id, err := ByName(context.Background(), c, "agent")
	fmt.Println(id, err)
	// Output: 3 <nil>
}
