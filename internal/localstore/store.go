package localstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

// Options selects the experiment traces go to. ExperimentID wins over
// ExperimentName; with neither, the Default experiment "0" is used.
type Options struct {
	ExperimentID   string
	ExperimentName string
}

// ErrShutdown is returned by ExportTraces after Shutdown.
var ErrShutdown = errors.New("localstore: store is shut down")

// Store writes traces into an MLflow FileStore folder. It implements the
// exporter's Destination interface.
type Store struct {
	root string
	exp  *experiment

	mu   sync.Mutex
	exps map[string]*experiment // other experiments named by traces

	closed atomic.Bool
}

// New opens (creating when missing) the FileStore folder root and resolves
// the experiment: Options.ExperimentID if set; else Options.ExperimentName,
// looked up among root/*/meta.yaml and created when missing; else "0".
func New(root string, opts Options) (*Store, error) {
	if root == "" {
		return nil, errors.New("localstore: empty root directory")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("localstore: resolve %q: %w", root, err)
	}
	if info, err := os.Stat(abs); err == nil && !info.IsDir() {
		return nil, fmt.Errorf("localstore: %s is not a directory", abs)
	}
	s := &Store{root: abs, exps: map[string]*experiment{}}
	if err := s.ensureRoot(); err != nil {
		return nil, fmt.Errorf("localstore: %w", err)
	}
	switch {
	case opts.ExperimentID != "":
		s.exp, err = s.experimentByID(opts.ExperimentID)
	case opts.ExperimentName != "":
		s.exp, err = s.experimentByName(opts.ExperimentName)
	default:
		s.exp, err = s.experimentByID(defaultExpID)
	}
	if err != nil {
		return nil, fmt.Errorf("localstore: %w", err)
	}
	s.exps[s.exp.ID] = s.exp
	return s, nil
}

// Root returns the absolute path of the FileStore folder.
func (s *Store) Root() string { return s.root }

// ExperimentID returns the id of the experiment traces are written to when
// they do not name one.
func (s *Store) ExperimentID() string { return s.exp.ID }

// ExportTraces writes each trace. A trace whose TraceInfo names another
// experiment of the same folder goes there. It returns the joined errors of
// the traces that could not be written, each a *tracemodel.TraceError (the
// others are written).
func (s *Store) ExportTraces(ctx context.Context, traces []*tracemodel.Trace) error {
	if s.closed.Load() {
		return ErrShutdown
	}
	var errs []error
	for _, t := range traces {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		if t == nil {
			continue
		}
		if err := s.writeTrace(t); err != nil {
			// This trace only: the others of the batch are written.
			errs = append(errs, &tracemodel.TraceError{TraceID: t.Info.TraceID,
				Err: fmt.Errorf("localstore: trace %s: %w", t.Info.TraceID, err)})
		}
	}
	return errors.Join(errs...)
}

// Shutdown marks the store closed. Writes are synchronous, so there is
// nothing to flush. It is idempotent.
func (s *Store) Shutdown(ctx context.Context) error {
	s.closed.Store(true)
	return nil
}

func (s *Store) experimentFor(id string) (*experiment, error) {
	if id == "" || id == s.exp.ID {
		return s.exp, nil
	}
	s.mu.Lock()
	e, ok := s.exps[id]
	s.mu.Unlock()
	if ok {
		return e, nil
	}
	// Read without the lock (concurrent first writers may both read it).
	e, err := s.experimentByID(id)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if prev, ok := s.exps[id]; ok {
		e = prev
	} else {
		s.exps[id] = e
	}
	s.mu.Unlock()
	return e, nil
}

type keyFile struct {
	rel   string // path relative to the trace directory
	value []byte
}

func (s *Store) writeTrace(t *tracemodel.Trace) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v", r)
		}
	}()
	info := &t.Info
	if !validTraceID(info.TraceID) {
		return fmt.Errorf("invalid trace id %q", info.TraceID)
	}
	exp, err := s.experimentFor(info.ExperimentID)
	if err != nil {
		return err
	}
	data, err := tracemodel.MarshalTraceData(t.Spans)
	if err != nil {
		return fmt.Errorf("encode spans: %w", err)
	}

	tracesPath := filepath.Join(exp.Dir, tracesDir)
	final := filepath.Join(tracesPath, info.TraceID)
	artifactPath := filepath.Join(exp.ArtifactPath, tracesDir, info.TraceID, artifactsDir)
	artifactInside := artifactPath == filepath.Join(final, artifactsDir)

	tags := make(map[string]string, len(info.Tags)+1)
	for k, v := range info.Tags {
		tags[k] = v
	}
	tags[keys.TagArtifactLocation] = exp.ArtifactURI + "/" + tracesDir + "/" + info.TraceID + "/" + artifactsDir

	var skipped []string
	files := make([]keyFile, 0, len(tags)+len(info.Metadata)+1)
	files, skipped = appendKeyFiles(files, skipped, metadataDir, info.Metadata)
	files, skipped = appendKeyFiles(files, skipped, tagsDir, tags)
	if artifactInside {
		files = append(files, keyFile{rel: filepath.Join(artifactsDir, traceDataFile), value: data})
	} else {
		// The experiment keeps its artifacts elsewhere: write traces.json
		// there first.
		if err := os.MkdirAll(artifactPath, 0o755); err != nil {
			return fmt.Errorf("create artifact directory: %w", err)
		}
		if err := writeFileAtomic(artifactPath, filepath.Join(artifactPath, traceDataFile), data); err != nil {
			return fmt.Errorf("write %s: %w", traceDataFile, err)
		}
	}
	infoYAML := traceInfoYAML(info, exp.ID)

	if err := os.MkdirAll(tracesPath, 0o755); err != nil {
		return fmt.Errorf("create traces directory: %w", err)
	}
	if err := s.stageAndRename(tracesPath, final, files); err != nil {
		return err
	}
	// trace_info.yaml last: until it exists MLflow ignores the directory.
	if err := writeFileAtomic(final, filepath.Join(final, traceInfoFile), infoYAML); err != nil {
		return fmt.Errorf("write %s: %w", traceInfoFile, err)
	}
	if len(skipped) > 0 {
		return fmt.Errorf("trace written without keys MLflow's file store cannot hold: %s", strings.Join(skipped, ", "))
	}
	return nil
}

// stageAndRename fills a temporary directory next to final and renames it
// into place. When final already exists (the same trace exported again, by
// this or another process) the files are replaced one by one instead.
func (s *Store) stageAndRename(tracesPath, final string, files []keyFile) error {
	if _, err := os.Lstat(final); err == nil {
		return updateInPlace(final, files)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	tmp, err := os.MkdirTemp(tracesPath, tmpPrefix+"*")
	if err != nil {
		return fmt.Errorf("create staging directory: %w", err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		_ = os.RemoveAll(tmp)
		return err
	}
	for _, d := range []string{metadataDir, tagsDir, artifactsDir} {
		if err := os.Mkdir(filepath.Join(tmp, d), 0o755); err != nil {
			_ = os.RemoveAll(tmp)
			return fmt.Errorf("create staging directory: %w", err)
		}
	}
	for _, f := range files {
		p := filepath.Join(tmp, f.rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			_ = os.RemoveAll(tmp)
			return fmt.Errorf("write %s: %w", f.rel, err)
		}
		if err := os.WriteFile(p, f.value, 0o644); err != nil {
			_ = os.RemoveAll(tmp)
			return fmt.Errorf("write %s: %w", f.rel, err)
		}
	}
	if err := os.Rename(tmp, final); err != nil {
		_ = os.RemoveAll(tmp)
		if isExist(err) {
			return updateInPlace(final, files)
		}
		return fmt.Errorf("rename trace directory into place: %w", err)
	}
	return nil
}

func updateInPlace(final string, files []keyFile) error {
	for _, f := range files {
		p := filepath.Join(final, f.rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("write %s: %w", f.rel, err)
		}
		if err := writeFileAtomic(final, p, f.value); err != nil {
			return fmt.Errorf("write %s: %w", f.rel, err)
		}
	}
	return nil
}

// appendKeyFiles adds one file per valid key under dir, in sorted order; a
// key that is a prefix directory of another (a and a/b) keeps the first.
func appendKeyFiles(files []keyFile, skipped []string, dir string, m map[string]string) ([]keyFile, []string) {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	taken := map[string]bool{}
	for _, k := range ks {
		if !validKeyName(k) || conflicts(taken, k) {
			skipped = append(skipped, strconv.Quote(dir+"/"+k))
			continue
		}
		taken[k] = true
		files = append(files, keyFile{rel: filepath.Join(dir, filepath.FromSlash(k)), value: []byte(strings.ToValidUTF8(m[k], "\uFFFD"))})
	}
	return files, skipped
}

// conflicts reports whether key k cannot coexist as a file with the taken
// keys (one would be a directory of the other).
func conflicts(taken map[string]bool, k string) bool {
	for i := 0; i < len(k); i++ {
		if k[i] == '/' && taken[k[:i]] {
			return true
		}
	}
	for t := range taken {
		if strings.HasPrefix(t, k+"/") {
			return true
		}
	}
	return false
}

// traceInfoYAML renders trace_info.yaml: TraceInfo.to_dict() without
// metadata and tags, keys sorted, as FileStore writes it.
func traceInfoYAML(info *tracemodel.TraceInfo, expID string) []byte {
	var b strings.Builder
	if info.ClientRequestID != "" {
		b.WriteString("client_request_id: " + yamlQuote(info.ClientRequestID) + "\n")
	}
	d := info.ExecutionDuration.Milliseconds()
	if d < 0 {
		d = 0
	}
	b.WriteString("execution_duration_ms: " + strconv.FormatInt(d, 10) + "\n")
	if info.RequestPreview != "" {
		b.WriteString("request_preview: " + yamlQuote(info.RequestPreview) + "\n")
	}
	b.WriteString("request_time: " + yamlQuote(info.RequestTime.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.000Z")) + "\n")
	if info.ResponsePreview != "" {
		b.WriteString("response_preview: " + yamlQuote(info.ResponsePreview) + "\n")
	}
	state := info.State
	if state == "" {
		state = "STATE_UNSPECIFIED"
	}
	b.WriteString("state: " + yamlQuote(state) + "\n")
	b.WriteString("trace_id: " + yamlQuote(info.TraceID) + "\n")
	b.WriteString("trace_location:\n  mlflow_experiment:\n    experiment_id: " + yamlQuote(expID) + "\n  type: MLFLOW_EXPERIMENT\n")
	return []byte(b.String())
}
