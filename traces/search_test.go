package traces

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
)

// pageBackend serves one page of n trace infos; loading the spans of a trace
// whose index is in failing fails, and every load waits a little so that
// loads in flight overlap.
type pageBackend struct {
	backend        // only search and spans are called
	n              int
	failing        map[int]bool
	inFlight, most atomic.Int32
}

func (b *pageBackend) search(context.Context, SearchQuery) ([]*exporter.TraceInfo, string, error) {
	infos := make([]*exporter.TraceInfo, b.n)
	for i := range infos {
		infos[i] = &exporter.TraceInfo{TraceID: fmt.Sprint(i)}
	}
	return infos, "", nil
}

func (b *pageBackend) spans(ctx context.Context, info *exporter.TraceInfo) ([]*exporter.Span, error) {
	n := b.inFlight.Add(1)
	defer b.inFlight.Add(-1)
	for {
		m := b.most.Load()
		if n <= m || b.most.CompareAndSwap(m, n) {
			break
		}
	}
	select {
	case <-time.After(5 * time.Millisecond):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var i int
	fmt.Sscan(info.TraceID, &i)
	if b.failing[i] {
		return nil, errors.New("no span data")
	}
	return []*exporter.Span{{Name: "span-" + info.TraceID}}, nil
}

// TestSearchLoadsSpansConcurrently: a page's spans load with at most
// spanLoads downloads at once, the traces keep the backend's order, and a
// trace whose spans cannot be loaded is left out (MLflow's behaviour).
func TestSearchLoadsSpansConcurrently(t *testing.T) {
	for _, tc := range []struct {
		name      string
		spanLoads int
		n         int
		failing   map[int]bool
	}{
		{"sequential", 1, 6, map[int]bool{2: true}},
		{"bounded", 4, 20, map[int]bool{0: true, 7: true}},
		{"more slots than traces", 32, 5, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &pageBackend{n: tc.n, failing: tc.failing}
			c := &Client{b: b, spanLoads: tc.spanLoads}
			page, err := c.SearchTraces(context.Background(), SearchQuery{Locations: []string{"1"}, MaxResults: 100})
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for i := range tc.n {
				if !tc.failing[i] {
					want = append(want, fmt.Sprint(i))
				}
			}
			var got []string
			for _, tr := range page.Traces {
				got = append(got, tr.Info.TraceID)
				if len(tr.Spans) != 1 || tr.Spans[0].Name != "span-"+tr.Info.TraceID {
					t.Errorf("trace %s has spans %v", tr.Info.TraceID, tr.Spans)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("traces %v, want %v", got, want)
			}
			if most := int(b.most.Load()); most > tc.spanLoads || (tc.spanLoads > 1 && most < 2) {
				t.Errorf("%d loads at once, want ≤ %d (and overlapping when > 1)", most, tc.spanLoads)
			}
		})
	}
}

// TestSearchCancelled: a search whose context ends while spans load returns
// the context's error, not a short page.
func TestSearchCancelled(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Millisecond)
	defer cancel()
	c := &Client{b: &pageBackend{n: 50}, spanLoads: 4}
	if _, err := c.SearchTraces(ctx, SearchQuery{Locations: []string{"1"}, MaxResults: 100}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want the context's", err)
	}
}
