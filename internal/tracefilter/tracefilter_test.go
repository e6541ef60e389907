package tracefilter

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

func infos() []*tracemodel.TraceInfo {
	base := time.UnixMilli(1_700_000_000_000)
	mk := func(id string, ms int64, dur time.Duration, state string, tags, md map[string]string) *tracemodel.TraceInfo {
		return &tracemodel.TraceInfo{TraceID: id, RequestTime: base.Add(time.Duration(ms) * time.Millisecond), ExecutionDuration: dur,
			State: state, Tags: tags, Metadata: md, ExperimentID: "0"}
	}
	return []*tracemodel.TraceInfo{
		mk("tr-a", 0, 10*time.Millisecond, "OK", map[string]string{"mlflow.traceName": "alpha", "env": "prod"}, map[string]string{"mlflow.sourceRun": "r1"}),
		mk("tr-b", 5, 30*time.Millisecond, "ERROR", map[string]string{"mlflow.traceName": "beta", "env": "dev"}, map[string]string{}),
		mk("tr-c", 9, 20*time.Millisecond, "OK", map[string]string{"mlflow.traceName": "alps"}, map[string]string{"v": "2"}),
	}
}

func TestFilter(t *testing.T) {
	for _, tc := range []struct {
		filter string
		want   []string // in timestamp DESC order
		err    string
	}{
		{"", []string{"tr-c", "tr-b", "tr-a"}, ""},
		{"tags.env = 'prod'", []string{"tr-a"}, ""},
		{"tag.env != 'prod'", []string{"tr-b"}, ""},
		{"tags.env IS NULL", []string{"tr-c"}, ""},
		{"tags.env IS NOT NULL AND status = 'OK'", []string{"tr-a"}, ""},
		{"name LIKE 'al%'", []string{"tr-c", "tr-a"}, ""},
		{"name ILIKE 'AL_S'", []string{"tr-c"}, ""},
		{"trace.status IN ('ERROR', 'IN_PROGRESS')", []string{"tr-b"}, ""},
		{"status NOT IN ('ERROR')", []string{"tr-c", "tr-a"}, ""},
		{"timestamp_ms > 1700000000004", []string{"tr-c", "tr-b"}, ""},
		{"execution_time_ms >= 20", []string{"tr-c", "tr-b"}, ""},
		{"run_id = 'r1'", []string{"tr-a"}, ""},
		{"metadata.v = \"2\"", []string{"tr-c"}, ""},
		{"request_metadata.`v` = '2'", []string{"tr-c"}, ""},
		{"request_id = 'tr-b'", []string{"tr-b"}, ""},
		{"foo = 'x'", nil, "invalid attribute key 'foo'"},
		{"tags.env = 'a' OR tags.env = 'b'", nil, "only AND-ed"},
		{"span.name = 'tool'", nil, "need a database"},
		{"feedback.quality = 'good'", nil, "need a database"},
		{"tags.env RLIKE 'p.*'", nil, "RLIKE is not supported"},
		{"end_time_ms > 1", nil, "end_time is not supported"},
		{"tags.env > 'a'", nil, "invalid comparator '>'"},
		{"status = 1", nil, "numeric values"},
		{"params.x = 'y'", nil, "invalid entity type 'params'"},
	} {
		t.Run(tc.filter, func(t *testing.T) {
			clauses, err := Parse(tc.filter)
			var got []string
			if err == nil {
				all := infos()
				var kept []*tracemodel.TraceInfo
				for _, info := range all {
					var ok bool
					if ok, err = Match(clauses, info); err != nil {
						break
					}
					if ok {
						kept = append(kept, info)
					}
				}
				orders, _ := ParseOrderBy(nil)
				Sort(kept, orders)
				for _, k := range kept {
					got = append(got, k.TraceID)
				}
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrInvalid) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestOrderByAndPages(t *testing.T) {
	for _, tc := range []struct {
		order []string
		want  []string
		err   string
	}{
		{[]string{"timestamp_ms ASC"}, []string{"tr-a", "tr-b", "tr-c"}, ""},
		{[]string{"execution_time_ms DESC"}, []string{"tr-b", "tr-c", "tr-a"}, ""},
		{[]string{"status", "timestamp"}, []string{"tr-b", "tr-a", "tr-c"}, ""},
		{[]string{"name ASC"}, nil, "invalid order_by entity `tag`"},
		{[]string{"timestamp_ms sideways"}, nil, "invalid ordering key"},
	} {
		orders, err := ParseOrderBy(tc.order)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v: err = %v", tc.order, err)
			}
			continue
		}
		all := infos()
		Sort(all, orders)
		var got []string
		for _, i := range all {
			got = append(got, i.TraceID)
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%v: got %v %v, want %v", tc.order, got, err, tc.want)
		}
	}
	tok := PageToken(100)
	if tok != "eyJvZmZzZXQiOiAxMDB9" { // base64 of {"offset": 100}, as MLflow writes it
		t.Errorf("PageToken = %s", tok)
	}
	if n, err := PageOffset(tok); n != 100 || err != nil {
		t.Errorf("PageOffset = %d %v", n, err)
	}
	if _, err := PageOffset("!!"); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad token: %v", err)
	}
}
