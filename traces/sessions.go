package traces

import (
	"context"
	"strings"
	"sync"

	"github.com/mlflowtrace/mlflowtrace-go/exporter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
)

// Session is the traces of one session (metadata mlflow.trace.session,
// tracing.WithSession), oldest first: MLflow's Session.
type Session struct {
	ID     string
	Traces []*exporter.Trace
}

// SessionQuery selects sessions: MLflow's search_sessions arguments.
type SessionQuery struct {
	// Locations are as SearchQuery's (default: the configured experiment).
	Locations []string
	// MaxResults bounds the sessions returned (default 100).
	MaxResults int
	// RunID and ModelID keep the traces of one run or one LoggedModel, as
	// SearchQuery's.
	RunID   string
	ModelID string
	// WithoutSpans returns the sessions' trace infos only.
	WithoutSpans bool
}

// SearchSessions returns up to q.MaxResults sessions, the one with the most
// recent trace first, each with all its traces oldest first — MLflow's
// search_sessions: it reads the traces newest first, without spans, for
// their session ids until it has enough, then each session's traces with
// the filter metadata.`mlflow.trace.session` = '<id>' (up to
// MLFLOW_SEARCH_TRACES_MAX_THREADS sessions at once). Traces without a
// session are not in any.
func (c *Client) SearchSessions(ctx context.Context, q SessionQuery) ([]Session, error) {
	want := q.MaxResults
	if want == 0 {
		want = DefaultMaxResults
	}
	if want < 0 {
		return nil, invalidf("max results must be positive, got %d", want)
	}
	// One normalization: the model id and the run become filter clauses
	// (the run looked up once), which every search below shares.
	base, err := c.normalize(ctx, SearchQuery{Locations: q.Locations, RunID: q.RunID, ModelID: q.ModelID}, modelFilterSearch)
	if err != nil {
		return nil, err
	}
	scan := base
	scan.OrderBy = []string{"timestamp DESC"}
	scan.WithoutSpans = true
	var ids []string
	seen := map[string]bool{}
	for len(ids) < want {
		page, err := c.searchPage(ctx, scan)
		if err != nil {
			return nil, err
		}
		for _, t := range page.Traces {
			id := t.Info.Metadata[keys.MetaSession]
			if id != "" && !seen[id] {
				seen[id] = true
				ids = append(ids, id)
				if len(ids) == want {
					break
				}
			}
		}
		if page.NextPageToken == "" {
			break
		}
		scan.PageToken = page.NextPageToken
	}

	// Each session's traces: the session's clause joins the model's and the
	// run's (MLflow 3.17.2's search_sessions passes a filter and a model id
	// to search_traces, which refuses the two together).
	if base.Filter != "" {
		base.Filter += " AND "
	}
	// Sessions are read in parallel and each one's spans one at a time, so
	// at most c.spanLoads requests are in flight, as for a page of
	// SearchTraces.
	sessions := make([]Session, len(ids))
	one := *c
	one.spanLoads = 1
	var (
		failed   sync.Once
		firstErr error // the first failure; the others' may be its cancellation
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	loadEach(len(ids), c.spanLoads, func(i int) {
		sq := base
		sq.Filter += sessionFilter(ids[i])
		sq.OrderBy = []string{"timestamp ASC"}
		sq.WithoutSpans = q.WithoutSpans
		s := Session{ID: ids[i]}
		for t, err := range one.all(ctx, sq) {
			if err != nil {
				failed.Do(func() { firstErr = err; cancel() })
				return
			}
			s.Traces = append(s.Traces, t)
		}
		sessions[i] = s
	})
	if firstErr != nil {
		return nil, firstErr
	}
	out := sessions[:0]
	for _, s := range sessions {
		if len(s.Traces) > 0 {
			out = append(out, s)
		}
	}
	return out, nil
}

// sessionFilter selects the traces of session id. MLflow quotes the id in
// single quotes; an id holding one is quoted in double quotes, which
// MLflow's filter grammar also reads.
func sessionFilter(id string) string {
	q := "'"
	if strings.Contains(id, "'") {
		q = `"`
	}
	return "metadata.`" + keys.MetaSession + "` = " + q + id + q
}
