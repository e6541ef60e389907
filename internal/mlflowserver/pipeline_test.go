package mlflowserver

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

// TestNoPipeliningWithoutSQLStore: to a server that does not ingest spans
// (here one older than 3.4; a FileStore-backed one answers a repeated
// StartTraceV3 with a 500, so unanswered requests could not safely be sent
// again) the trace infos go one at a time: the server sees no request
// before it answered the one before. The traces.json files are written.
func TestNoPipeliningWithoutSQLStore(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var starts, pipelined atomic.Int32
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				serveOneByOne(c, dir, &starts, &pipelined)
			}()
		}
	}()
	d := newDest(t, Config{Transport: fastTransport("http://" + l.Addr().String()), ExperimentID: "7"})
	defer func() {
		_ = d.Shutdown(context.Background()) // closes its idle connections
		_ = l.Close()
		wg.Wait()
	}()
	traces := []*tracemodel.Trace{makeTrace("a", 2), makeTrace("b", 2), makeTrace("c", 2)}
	if err := d.ExportTraces(context.Background(), traces); err != nil {
		t.Fatal(err)
	}
	if n := starts.Load(); n != 3 {
		t.Errorf("%d StartTraceV3 calls, want 3", n)
	}
	if n := pipelined.Load(); n != 0 {
		t.Errorf("%d requests arrived before the answer to the one before", n)
	}
	for i := range traces {
		if _, err := os.Stat(filepath.Join(dir, fmt.Sprint("tr-", i+1), traceDataFile)); err != nil {
			t.Error(err)
		}
	}
}

// serveOneByOne answers /version with 3.3.0 and StartTraceV3 with a
// file: artifact location under dir; before each answer it waits briefly
// for bytes of a next request, which only a pipelining client sends then.
func serveOneByOne(c net.Conn, dir string, starts, pipelined *atomic.Int32) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		r, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
		if _, err := br.Peek(1); err == nil {
			pipelined.Add(1)
		}
		var body string
		switch r.URL.Path {
		case "/version":
			body = "3.3.0"
		case "/api/3.0/mlflow/traces":
			n := starts.Add(1)
			loc := "file://" + filepath.ToSlash(dir)
			body = fmt.Sprintf(`{"trace":{"trace_info":{"tags":{"mlflow.artifactLocation":%q}}}}`, fmt.Sprintf("%s/tr-%d", loc, n))
		default:
			body = "{}"
		}
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	}
}
