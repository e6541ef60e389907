package localstore

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// File and folder names of MLflow's FileStore.
const (
	metaFile         = "meta.yaml"
	trashDir         = ".trash"
	tracesDir        = "traces"
	traceInfoFile    = "trace_info.yaml"
	tagsDir          = "tags"
	metadataDir      = "request_metadata"
	artifactsDir     = "artifacts"
	traceDataFile    = "traces.json"
	defaultExpID     = "0"
	defaultExpName   = "Default"
	lifecycleActive  = "active"
	lifecycleDeleted = "deleted"
)

// experiment is a resolved experiment of the store.
type experiment struct {
	ID string
	// Dir is mlruns/<id>.
	Dir string
	// ArtifactURI is the experiment's artifact_location as MLflow wrote it;
	// ArtifactPath is the local directory it designates.
	ArtifactURI  string
	ArtifactPath string
}

type experimentMeta struct {
	ID               string
	Name             string
	ArtifactLocation string
	LifecycleStage   string
	CreationTime     int64
}

// readMeta reads dir/meta.yaml. It returns fs.ErrNotExist (wrapped) when the
// file is missing.
func readMeta(dir string) (experimentMeta, error) {
	data, err := os.ReadFile(filepath.Join(dir, metaFile))
	if err != nil {
		return experimentMeta{}, err
	}
	f := parseTopLevelYAML(data)
	m := experimentMeta{
		ID:               f["experiment_id"].Value,
		Name:             f["name"].Value,
		ArtifactLocation: f["artifact_location"].Value,
		LifecycleStage:   f["lifecycle_stage"].Value,
	}
	m.CreationTime, _ = strconv.ParseInt(f["creation_time"].Value, 10, 64)
	if m.ID == "" {
		return m, fmt.Errorf("%s: no experiment_id", filepath.Join(dir, metaFile))
	}
	return m, nil
}

// metaYAML renders meta.yaml as MLflow 3.17's FileStore writes it (keys
// sorted).
func metaYAML(id, name, artifactURI string, now time.Time) []byte {
	ms := strconv.FormatInt(now.UnixMilli(), 10)
	var b strings.Builder
	b.WriteString("artifact_location: " + yamlQuote(artifactURI) + "\n")
	b.WriteString("creation_time: " + ms + "\n")
	b.WriteString("effective_trace_archival_retention: null\n")
	b.WriteString("experiment_id: " + yamlQuote(id) + "\n")
	b.WriteString("last_update_time: " + ms + "\n")
	b.WriteString("lifecycle_stage: " + lifecycleActive + "\n")
	b.WriteString("name: " + yamlQuote(name) + "\n")
	b.WriteString("trace_location: null\n")
	b.WriteString("workspace: default\n")
	return []byte(b.String())
}

// ensureRoot creates mlruns (with the Default experiment, as FileStore does
// for a new root) and its .trash folder.
func (s *Store) ensureRoot() error {
	if _, err := os.Stat(s.root); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(s.root, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", s.root, err)
		}
		if _, err := s.createExperiment(defaultExpID, defaultExpName); err != nil {
			return err
		}
	} else if err != nil {
		return fmt.Errorf("stat %s: %w", s.root, err)
	}
	if err := os.Mkdir(filepath.Join(s.root, trashDir), 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create %s: %w", trashDir, err)
	}
	return nil
}

// createExperiment creates mlruns/<id>/meta.yaml. The directory is the lock:
// os.Mkdir succeeds in exactly one process. A process that loses the race
// (or finds the directory left without meta.yaml by a crashed writer) reads
// meta.yaml and reports whether it names the same experiment; when it is
// still missing it writes it itself (same content, atomic rename).
// ok is false when the directory belongs to another experiment.
func (s *Store) createExperiment(id, name string) (ok bool, err error) {
	dir := filepath.Join(s.root, id)
	if _, err := os.Stat(filepath.Join(s.root, trashDir, id)); err == nil {
		return false, nil // a deleted experiment holds this id
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		if !errors.Is(err, fs.ErrExist) {
			return false, fmt.Errorf("create experiment directory %s: %w", dir, err)
		}
		m, rerr := readMeta(dir)
		switch {
		case rerr == nil:
			return m.ID == id && m.Name == name && m.LifecycleStage != lifecycleDeleted, nil
		case !errors.Is(rerr, fs.ErrNotExist):
			return false, nil // unreadable: not ours
		}
	}
	meta := metaYAML(id, name, fileURI(dir), time.Now())
	if err := writeFileAtomic(dir, filepath.Join(dir, metaFile), meta); err != nil {
		return false, fmt.Errorf("write %s: %w", filepath.Join(dir, metaFile), err)
	}
	return true, nil
}

// experimentByID resolves an existing experiment, creating "0" (Default)
// when it is missing.
func (s *Store) experimentByID(id string) (*experiment, error) {
	if !experimentIDPattern.MatchString(id) {
		return nil, fmt.Errorf("invalid experiment id %q (MLFLOW_EXPERIMENT_ID, exporter.WithExperimentID): want letters, digits, _ or -", id)
	}
	dir := filepath.Join(s.root, id)
	m, err := readMeta(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if _, terr := os.Stat(filepath.Join(s.root, trashDir, id)); terr == nil {
			return nil, fmt.Errorf("experiment %s is deleted (in %s)", id, filepath.Join(s.root, trashDir))
		}
		if id != defaultExpID {
			return nil, fmt.Errorf("experiment %s not found in %s", id, s.root)
		}
		ok, cerr := s.createExperiment(defaultExpID, defaultExpName)
		if cerr != nil {
			return nil, cerr
		}
		if !ok {
			return nil, fmt.Errorf("cannot create the default experiment in %s", s.root)
		}
		m, err = readMeta(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("read experiment %s: %w", id, err)
	}
	if m.ID != id {
		return nil, fmt.Errorf("experiment directory %s records id %q", dir, m.ID)
	}
	if m.LifecycleStage == lifecycleDeleted {
		return nil, fmt.Errorf("experiment %s is deleted", id)
	}
	return newExperiment(id, dir, m.ArtifactLocation)
}

func newExperiment(id, dir, artifactURI string) (*experiment, error) {
	if artifactURI == "" {
		artifactURI = fileURI(dir)
	}
	p, err := localPath(artifactURI)
	if err != nil {
		return nil, fmt.Errorf("experiment %s: %w", id, err)
	}
	return &experiment{ID: id, Dir: dir, ArtifactURI: strings.TrimRight(artifactURI, "/"), ArtifactPath: p}, nil
}

// experimentByName finds the active experiment called name among
// mlruns/*/meta.yaml (the newest one if several, as MLflow's name lookup
// orders by creation time) or creates it.
func (s *Store) experimentByName(name string) (*experiment, error) {
	if name == "" || len([]rune(name)) > 500 {
		return nil, fmt.Errorf("invalid experiment name %q", name)
	}
	found, err := s.findByName(name, s.root)
	if err != nil {
		return nil, err
	}
	if found != nil {
		return s.experimentByID(found.ID)
	}
	if deleted, _ := s.findByName(name, filepath.Join(s.root, trashDir)); deleted != nil {
		return nil, fmt.Errorf("experiment %q (id %s) is deleted: restore it or remove it from %s", name, deleted.ID, filepath.Join(s.root, trashDir))
	}
	// Create it. The id is derived from the name so that processes racing
	// to create the same experiment pick the same directory and agree
	// through os.Mkdir; on a clash with another experiment the next
	// candidate is tried.
	for attempt := 0; attempt < 100; attempt++ {
		id := candidateID(name, attempt)
		ok, err := s.createExperiment(id, name)
		if err != nil {
			return nil, err
		}
		if ok {
			return s.experimentByID(id)
		}
	}
	return nil, fmt.Errorf("cannot allocate an id for experiment %q", name)
}

func (s *Store) findByName(name, parent string) (*experimentMeta, error) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("list experiments: %w", err)
	}
	var best *experimentMeta
	for _, e := range entries {
		if !e.IsDir() || !experimentIDPattern.MatchString(e.Name()) {
			continue
		}
		m, err := readMeta(filepath.Join(parent, e.Name()))
		if err != nil || m.Name != name || m.ID != e.Name() {
			continue
		}
		if best == nil || m.CreationTime > best.CreationTime || (m.CreationTime == best.CreationTime && m.ID < best.ID) {
			mm := m
			best = &mm
		}
	}
	return best, nil
}

// candidateID returns an 18-digit id like FileStore's random experiment
// ids, but derived from the name (and attempt) so concurrent creators agree.
func candidateID(name string, attempt int) string {
	h := sha256.Sum256([]byte(name + "\x00" + strconv.Itoa(attempt)))
	n := binary.BigEndian.Uint64(h[:8])%900_000_000_000_000_000 + 100_000_000_000_000_000
	return strconv.FormatUint(n, 10)
}
