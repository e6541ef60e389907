package localstore

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracefilter"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

// assessmentsDir holds one <assessment id>.yaml per assessment of a trace,
// as MLflow's FileStore lays them out.
const assessmentsDir = "assessments"

// MaxSearchResults is the FileStore's limit on max_results
// (SEARCH_MAX_RESULTS_THRESHOLD).
const MaxSearchResults = 50000

// Errors of Reader, matched with errors.Is. Their messages are whole
// sentences, MLflow's FileStore's, naming what was not found; the kind is
// not repeated in front.
var (
	ErrTraceNotFound      = errors.New("trace not found")
	ErrAssessmentNotFound = errors.New("assessment not found")
	ErrTagNotFound        = errors.New("tag not found")
	ErrExperimentNotFound = errors.New("experiment not found")
	ErrRunNotFound        = errors.New("run not found")
)

// notFoundError is a not-found error of kind (one of the Err*NotFound)
// with its own message.
type notFoundError struct {
	kind error
	msg  string
}

func (e *notFoundError) Error() string        { return e.msg }
func (e *notFoundError) Is(target error) bool { return target == e.kind }

func notFoundf(kind error, format string, args ...any) error {
	return &notFoundError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// Reader reads and edits the traces of an MLflow FileStore folder the way
// MLflow 3.17.2's FileStore does: trace infos (trace_info.yaml,
// request_metadata/, tags/), spans (traces.json at the trace's artifact
// location), assessments (assessments/<id>.yaml in the trace directory),
// tags, deletion and search (package tracefilter). It reads both what Store
// writes and what MLflow writes. It creates nothing until asked to write.
type Reader struct {
	root string
	now  func() time.Time
}

// OpenReader returns a Reader for the FileStore folder root.
func OpenReader(root string) (*Reader, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("localstore: resolve %q: %w", root, err)
	}
	return &Reader{root: abs, now: time.Now}, nil
}

// Root returns the absolute path of the folder.
func (r *Reader) Root() string { return r.root }

// experimentDirs returns the experiment directories: active ones, then
// deleted ones (.trash), as FileStore searches them.
func (r *Reader) experimentDirs() []string {
	var out []string
	for _, parent := range []string{r.root, filepath.Join(r.root, trashDir)} {
		ents, err := os.ReadDir(parent)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if !e.IsDir() || e.Name() == trashDir {
				continue
			}
			d := filepath.Join(parent, e.Name())
			if _, err := os.Stat(filepath.Join(d, metaFile)); err == nil {
				out = append(out, d)
			}
		}
	}
	return out
}

// experimentDir returns the directory of experiment id (active or deleted).
func (r *Reader) experimentDir(id string) (string, error) {
	if !experimentIDPattern.MatchString(id) {
		return "", notFoundf(ErrExperimentNotFound, "invalid experiment id %q", id)
	}
	for _, d := range []string{filepath.Join(r.root, id), filepath.Join(r.root, trashDir, id)} {
		if _, err := os.Stat(filepath.Join(d, metaFile)); err == nil {
			return d, nil
		}
	}
	return "", notFoundf(ErrExperimentNotFound, "experiment %s does not exist", id)
}

// traceDir finds the directory of trace id.
func (r *Reader) traceDir(id string) (string, error) {
	if !validTraceID(id) {
		return "", notFoundf(ErrTraceNotFound, "trace with ID '%s' not found", id)
	}
	for _, d := range r.experimentDirs() {
		p := filepath.Join(d, tracesDir, id)
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return p, nil
		}
	}
	return "", notFoundf(ErrTraceNotFound, "trace with ID '%s' not found", id)
}

// TraceInfo returns the trace info of id with its assessments.
func (r *Reader) TraceInfo(id string) (*tracemodel.TraceInfo, error) {
	dir, err := r.traceDir(id)
	if err != nil {
		return nil, err
	}
	info, err := readTraceInfo(dir)
	if err != nil {
		return nil, err
	}
	if info == nil {
		return nil, notFoundf(ErrTraceNotFound, "trace with ID '%s' not found", id)
	}
	return info, nil
}

// readTraceInfo reads the trace in dir; nil when trace_info.yaml is missing
// (a trace still being written).
func readTraceInfo(dir string) (*tracemodel.TraceInfo, error) {
	data, err := os.ReadFile(filepath.Join(dir, traceInfoFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	raw, err := yamlToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, traceInfoFile), err)
	}
	var info tracemodel.TraceInfo
	if err := json.Unmarshal(raw, &info); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, traceInfoFile), err)
	}
	if info.Metadata, err = readKeyDir(filepath.Join(dir, metadataDir)); err != nil {
		return nil, err
	}
	if info.Tags, err = readKeyDir(filepath.Join(dir, tagsDir)); err != nil {
		return nil, err
	}
	if info.Assessments, err = readAssessments(dir); err != nil {
		return nil, err
	}
	return &info, nil
}

// readKeyDir reads a request_metadata/ or tags/ directory: one file per key,
// keys with '/' in subdirectories.
func readKeyDir(dir string) (map[string]string, error) {
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	return out, err
}

// yamlToJSON converts a YAML document (as PyYAML's safe_dump writes them) to
// JSON text.
func yamlToJSON(data []byte) ([]byte, error) {
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	return json.Marshal(jsonable(v))
}

// jsonable turns yaml.v3's decoded values into ones encoding/json writes
// (map[any]any keys become strings, times RFC 3339).
func jsonable(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = jsonable(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = jsonable(e)
		}
		return m
	case []any:
		for i := range x {
			x[i] = jsonable(x[i])
		}
		return x
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	}
	return v
}

// Spans returns the spans of the trace info (traces.json at its artifact
// location).
func (r *Reader) Spans(info *tracemodel.TraceInfo) ([]*tracemodel.Span, error) {
	loc := info.Tags[keys.TagArtifactLocation]
	if loc == "" {
		return nil, fmt.Errorf("trace %s has no %s tag: its span data cannot be found", info.TraceID, keys.TagArtifactLocation)
	}
	dir, err := localPath(loc)
	if err != nil {
		return nil, fmt.Errorf("trace %s: %w", info.TraceID, err)
	}
	data, err := os.ReadFile(filepath.Join(dir, traceDataFile))
	if err != nil {
		return nil, fmt.Errorf("trace %s cannot be loaded because it is missing span data: %w", info.TraceID, err)
	}
	return ParseTraceData(data)
}

// ParseTraceData reads traces.json ({"spans": [...]}).
func ParseTraceData(data []byte) ([]*tracemodel.Span, error) {
	var td struct {
		Spans []*tracemodel.Span `json:"spans"`
	}
	if err := json.Unmarshal(data, &td); err != nil {
		return nil, fmt.Errorf("span data is corrupted: %w", err)
	}
	return td.Spans, nil
}

// Search returns the trace infos of the experiments matching filter, in
// order, one page (MLflow FileStore's search_traces).
func (r *Reader) Search(experimentIDs []string, filter string, orderBy []string, maxResults int, pageToken string) ([]*tracemodel.TraceInfo, string, error) {
	if maxResults > MaxSearchResults {
		return nil, "", fmt.Errorf("%w: invalid value for request parameter max_results. It must be at most %d, but got value %d", tracefilter.ErrInvalid, MaxSearchResults, maxResults)
	}
	clauses, err := tracefilter.Parse(filter)
	if err != nil {
		return nil, "", err
	}
	for _, c := range clauses {
		if err := c.Supported(); err != nil {
			return nil, "", err
		}
	}
	orders, err := tracefilter.ParseOrderBy(orderBy)
	if err != nil {
		return nil, "", err
	}
	offset, err := tracefilter.PageOffset(pageToken)
	if err != nil {
		return nil, "", err
	}
	var all []*tracemodel.TraceInfo
	for _, id := range experimentIDs {
		dir, err := r.experimentDir(id)
		if err != nil {
			return nil, "", err
		}
		ents, err := os.ReadDir(filepath.Join(dir, tracesDir))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, "", err
		}
		for _, e := range ents {
			if !e.IsDir() || strings.HasPrefix(e.Name(), tmpPrefix) {
				continue
			}
			info, err := readTraceInfo(filepath.Join(dir, tracesDir, e.Name()))
			if err != nil || info == nil {
				continue // a malformed or unfinished trace: MLflow skips it too
			}
			ok, err := tracefilter.Match(clauses, info)
			if err != nil {
				return nil, "", err
			}
			if ok {
				all = append(all, info)
			}
		}
	}
	tracefilter.Sort(all, orders)
	end := min(offset+maxResults, len(all))
	if offset > len(all) {
		offset = len(all)
	}
	next := ""
	if offset+maxResults < len(all) {
		next = tracefilter.PageToken(offset + maxResults)
	}
	return all[offset:end], next, nil
}

// SetTag sets a tag of trace id.
func (r *Reader) SetTag(id, key, value string) error {
	dir, err := r.traceDir(id)
	if err != nil {
		return err
	}
	if !validKeyName(key) {
		return fmt.Errorf("invalid tag name %q: names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/)", key)
	}
	p := filepath.Join(dir, tagsDir, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return writeFileAtomic(dir, p, []byte(value))
}

// DeleteTag deletes a tag of trace id.
func (r *Reader) DeleteTag(id, key string) error {
	dir, err := r.traceDir(id)
	if err != nil {
		return err
	}
	if !validKeyName(key) {
		return fmt.Errorf("invalid tag name %q", key)
	}
	p := filepath.Join(dir, tagsDir, filepath.FromSlash(key))
	if err := os.Remove(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return notFoundf(ErrTagNotFound, "no tag with name: %s in trace with ID %s", key, id)
		}
		return err
	}
	return nil
}

// DeleteTraces deletes traces of an experiment, by id or all those that
// started at or before maxTimestampMillis (the oldest first, at most
// maxTraces when > 0). It returns how many it deleted.
func (r *Reader) DeleteTraces(experimentID string, maxTimestampMillis int64, maxTraces int, ids []string) (int, error) {
	dir, err := r.experimentDir(experimentID)
	if err != nil {
		return 0, err
	}
	traces := filepath.Join(dir, tracesDir)
	n := 0
	if len(ids) > 0 {
		for _, id := range ids {
			if !validTraceID(id) {
				continue
			}
			p := filepath.Join(traces, id)
			if _, err := os.Stat(p); err == nil {
				if err := os.RemoveAll(p); err != nil {
					return n, err
				}
				n++
			}
		}
		return n, nil
	}
	ents, err := os.ReadDir(traces)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	type old struct {
		ms  int64
		dir string
	}
	var olds []old
	for _, e := range ents {
		p := filepath.Join(traces, e.Name())
		info, err := readTraceInfo(p)
		if err != nil || info == nil {
			continue
		}
		if ms := info.RequestTime.UnixMilli(); ms <= maxTimestampMillis {
			olds = append(olds, old{ms, p})
		}
	}
	slices.SortStableFunc(olds, func(a, b old) int { return int(a.ms - b.ms) })
	if maxTraces > 0 && len(olds) > maxTraces {
		olds = olds[:maxTraces]
	}
	for _, o := range olds {
		if err := os.RemoveAll(o.dir); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// --- assessments -------------------------------------------------------------

func readAssessments(traceDir string) ([]tracemodel.Assessment, error) {
	ents, err := os.ReadDir(filepath.Join(traceDir, assessmentsDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []tracemodel.Assessment
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".yaml")
		if !ok || e.IsDir() {
			continue
		}
		a, err := readAssessment(traceDir, name)
		if err != nil {
			return nil, err
		}
		out = append(out, *a)
	}
	return out, nil
}

func assessmentPath(traceDir, id string) string {
	return filepath.Join(traceDir, assessmentsDir, id+".yaml")
}

func readAssessment(traceDir, id string) (*tracemodel.Assessment, error) {
	var data []byte
	err := fs.ErrNotExist // an id with a path separator names no file in assessments/
	if !strings.ContainsAny(id, `/\`) {
		data, err = os.ReadFile(assessmentPath(traceDir, id))
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, notFoundf(ErrAssessmentNotFound, "assessment with ID '%s' not found for trace '%s'", id, filepath.Base(traceDir))
	}
	if err != nil {
		return nil, err
	}
	raw, err := yamlToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("failed to load assessment with ID '%s': %w", id, err)
	}
	var a tracemodel.Assessment
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, fmt.Errorf("failed to load assessment with ID '%s': %w", id, err)
	}
	switch {
	case a.Feedback != nil && a.Valid == nil:
		t := true // Feedback.from_dictionary: valid defaults to True
		a.Valid = &t
	case a.Feedback == nil:
		a.Valid = nil // Expectation.from_dictionary reads no valid
	}
	return &a, nil
}

// writeAssessment writes a as YAML that PyYAML's safe_load reads back as
// Assessment.to_dictionary() (block style, every string quoted).
func writeAssessment(traceDir string, a *tracemodel.Assessment) error {
	js, err := a.MarshalJSON()
	if err != nil {
		return err
	}
	var node yaml.Node
	if err := yaml.Unmarshal(js, &node); err != nil {
		return err
	}
	blockStyle(&node)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&node); err != nil {
		return err
	}
	_ = enc.Close()
	p := assessmentPath(traceDir, a.AssessmentID)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Dir(p), p, buf.Bytes())
}

func blockStyle(n *yaml.Node) {
	if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
		n.Style = 0
	}
	for _, c := range n.Content {
		blockStyle(c)
	}
}

// GetAssessment returns an assessment of trace id.
func (r *Reader) GetAssessment(traceID, assessmentID string) (*tracemodel.Assessment, error) {
	dir, err := r.traceDir(traceID)
	if err != nil {
		return nil, err
	}
	return readAssessment(dir, assessmentID)
}

// CreateAssessment stores a new assessment (FileStore.create_assessment): a
// fresh "a-<uuid4 hex>" id, both times now, valid; when it overrides
// another, that one becomes invalid.
func (r *Reader) CreateAssessment(a *tracemodel.Assessment) (*tracemodel.Assessment, error) {
	dir, err := r.traceDir(a.TraceID)
	if err != nil {
		return nil, err
	}
	out := *a
	out.AssessmentID = newAssessmentID()
	now := r.now().Truncate(time.Millisecond)
	out.CreateTime, out.LastUpdateTime = now, now
	valid := true
	out.Valid = &valid
	if out.Overrides != "" {
		orig, err := readAssessment(dir, out.Overrides)
		if err != nil {
			return nil, err
		}
		invalid := false
		orig.Valid = &invalid
		if err := writeAssessment(dir, orig); err != nil {
			return nil, err
		}
	}
	if err := writeAssessment(dir, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AssessmentUpdate is what UpdateAssessment changes; nil fields are kept.
type AssessmentUpdate struct {
	Name        *string
	Feedback    *tracemodel.FeedbackValue
	Expectation *tracemodel.ExpectationValue
	Rationale   *string
	Metadata    map[string]string // merged into the existing metadata
}

// UpdateAssessment updates an assessment in place (FileStore.update_assessment):
// source, span and creation time are kept, metadata merged, the update time
// set to now.
func (r *Reader) UpdateAssessment(traceID, assessmentID string, u AssessmentUpdate) (*tracemodel.Assessment, error) {
	dir, err := r.traceDir(traceID)
	if err != nil {
		return nil, err
	}
	a, err := readAssessment(dir, assessmentID)
	if err != nil {
		return nil, err
	}
	switch {
	case u.Feedback != nil && u.Expectation != nil:
		return nil, errors.New("cannot specify both `expectation` and `feedback` parameters")
	case u.Expectation != nil && a.Expectation == nil:
		return nil, errors.New("cannot update expectation value on a Feedback assessment")
	case u.Feedback != nil && a.Feedback == nil:
		return nil, errors.New("cannot update feedback value on an Expectation assessment")
	}
	if u.Name != nil {
		a.Name = *u.Name
	}
	if u.Feedback != nil {
		a.Feedback = u.Feedback
	}
	if u.Expectation != nil {
		a.Expectation = u.Expectation
	}
	if u.Rationale != nil && a.Feedback != nil {
		a.Rationale = *u.Rationale
	}
	if len(u.Metadata) > 0 {
		if a.Metadata == nil {
			a.Metadata = map[string]string{}
		}
		for k, v := range u.Metadata {
			a.Metadata[k] = v
		}
	}
	if a.Expectation != nil {
		a.Valid = nil // MLflow rebuilds an Expectation without valid
	}
	a.TraceID = traceID
	a.LastUpdateTime = r.now().Truncate(time.Millisecond)
	if err := writeAssessment(dir, a); err != nil {
		return nil, err
	}
	return a, nil
}

// DeleteAssessment deletes an assessment (a missing one is not an error, as
// in MLflow); an assessment it overrode becomes valid again.
func (r *Reader) DeleteAssessment(traceID, assessmentID string) error {
	dir, err := r.traceDir(traceID)
	if err != nil {
		return err
	}
	a, err := readAssessment(dir, assessmentID)
	if errors.Is(err, ErrAssessmentNotFound) {
		return nil
	}
	if err := os.Remove(assessmentPath(dir, assessmentID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("failed to delete assessment with ID '%s' for trace '%s': %w", assessmentID, traceID, err)
	}
	_ = os.Remove(filepath.Join(dir, assessmentsDir)) // only when empty
	if a != nil && a.Overrides != "" {
		if orig, err := readAssessment(dir, a.Overrides); err == nil {
			valid := true
			orig.Valid = &valid
			orig.LastUpdateTime = r.now().Truncate(time.Millisecond)
			_ = writeAssessment(dir, orig)
		}
	}
	return nil
}

// newAssessmentID returns "a-" and 32 random hex digits (a uuid4 hex, as
// MLflow's generate_assessment_id).
func newAssessmentID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return "a-" + hex.EncodeToString(b[:])
}

// runIDPattern is MLflow's RUN_ID_REGEX (_validate_run_id).
var runIDPattern = regexp.MustCompile(`^[a-zA-Z0-9][\w\-]{0,255}$`)

// RunExperiment returns the id of the experiment of run runID, found as
// FileStore.get_run finds it: the directory <experiment>/<run id> with a
// meta.yaml, in an active or a deleted experiment.
func (r *Reader) RunExperiment(runID string) (string, error) {
	if runIDPattern.MatchString(runID) {
		for _, d := range r.experimentDirs() {
			if _, err := os.Stat(filepath.Join(d, runID, metaFile)); err == nil {
				return filepath.Base(d), nil
			}
		}
	}
	return "", notFoundf(ErrRunNotFound, "run '%s' not found", runID)
}

// ExperimentByName returns the id of the active experiment called name
// (the newest if several).
func (r *Reader) ExperimentByName(name string) (string, error) {
	var best *experimentMeta
	for _, d := range r.experimentDirs() {
		m, err := readMeta(d)
		if err != nil || m.Name != name || m.LifecycleStage == lifecycleDeleted {
			continue
		}
		if best == nil || m.CreationTime > best.CreationTime {
			best = &m
		}
	}
	if best == nil {
		return "", notFoundf(ErrExperimentNotFound, "no experiment named %q in %s", name, r.root)
	}
	return best.ID, nil
}
