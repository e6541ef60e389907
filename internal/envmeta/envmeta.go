package envmeta

import (
	"bufio"
	"bytes"
	"io"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/mlflowtrace/mlflowtrace-go/internal/envconfig"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
)

// SourceTypeLocal is the mlflow.source.type MLflow writes for a program run
// outside Databricks.
const SourceTypeLocal = "LOCAL"

// Collect returns the environment metadata MLflow's Python SDK (3.17) writes
// on every trace:
//
//   - mlflow.user: MLFLOW_TRACKING_USERNAME, else the login name
//     (LOGNAME, USER, LNAME, USERNAME, then the account database, as Python's
//     getpass.getuser), else "unknown";
//   - mlflow.source.name: the program path as invoked (os.Args[0], Python's
//     sys.argv[0]), "<console>" when empty;
//   - mlflow.source.type: "LOCAL";
//   - mlflow.source.git.commit, mlflow.source.git.branch,
//     mlflow.source.git.repoURL: always present, "" when unknown, like
//     MLflow with GitPython installed. The commit is the binary's
//     vcs.revision (runtime/debug build info) when it has one, else the
//     HEAD commit of the git repository holding the working directory; the
//     branch and the first remote's URL (credentials removed) come from that
//     repository's files. git is never executed.
//
// MLflow does not write mlflow.source.git.dirty on traces, so neither does
// Collect. The environment is read through env (envconfig.Env{}: the
// process environment). Collect reads a few small files once; call it at
// startup, not on a hot path.
func Collect(env envconfig.Env) map[string]string {
	cwd, _ := os.Getwd()
	var revision string
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	return collect(env, os.Args, cwd, revision)
}

func collect(env envconfig.Env, args []string, cwd, revision string) map[string]string {
	m := make(map[string]string, 6)
	m[keys.MetaMLflowUser] = userName(env)
	source := "<console>"
	if len(args) > 0 && args[0] != "" {
		source = args[0]
	}
	m[keys.MetaSourceName] = source
	m[keys.MetaSourceType] = SourceTypeLocal

	g := readGit(cwd)
	if revision != "" {
		g.commit = revision
	}
	m[keys.MetaGitCommit] = g.commit
	m[keys.MetaGitBranch] = g.branch
	m[keys.MetaGitRepoURL] = g.repoURL
	return m
}

// loginNameVars are the variables Python's getpass.getuser reads, in its
// order, for the login name.
var loginNameVars = []string{"LOGNAME", "USER", "LNAME", "USERNAME"}

// userName is MLflow's mlflow.user: MLFLOW_TRACKING_USERNAME (an SDK
// variable, read through envconfig like every other), else getpass.getuser's
// login name, else "unknown".
func userName(env envconfig.Env) string {
	if u := envconfig.TrackingUsername.Get(env); u != "" {
		return u
	}
	// LOGNAME, USER, LNAME and USERNAME are not this SDK's configuration (no
	// default, no option, no row in the documentation tables): they are the
	// login name, looked up as getpass does and used as is. They are read
	// through env's getenv (a caller's WithGetenv sees them), not through an
	// envconfig handle: envconfig's table is the SDK's configuration.
	getenv := env.Getenv()
	for _, k := range loginNameVars {
		if u := getenv(k); u != "" {
			return u
		}
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
}

type gitInfo struct{ commit, branch, repoURL string }

// maxGitFile bounds what is read from any git file.
const maxGitFile = 1 << 20

func readFile(path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, maxGitFile))
	return b
}

// findGitDir walks up from dir to the first directory holding .git and
// returns the git directory (following a "gitdir: " file) and the common
// directory (differs for worktrees).
func findGitDir(dir string) (gitDir, commonDir string) {
	if dir == "" {
		return "", ""
	}
	for {
		p := filepath.Join(dir, ".git")
		if fi, err := os.Stat(p); err == nil {
			if fi.IsDir() {
				gitDir = p
			} else if b := readFile(p); bytes.HasPrefix(b, []byte("gitdir:")) {
				gd := strings.TrimSpace(string(b[len("gitdir:"):]))
				if !filepath.IsAbs(gd) {
					gd = filepath.Join(dir, gd)
				}
				gitDir = gd
			}
			if gitDir != "" {
				commonDir = gitDir
				if c := strings.TrimSpace(string(readFile(filepath.Join(gitDir, "commondir")))); c != "" {
					if !filepath.IsAbs(c) {
						c = filepath.Join(gitDir, c)
					}
					commonDir = c
				}
				return gitDir, commonDir
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", ""
		}
		dir = parent
	}
}

func readGit(cwd string) gitInfo {
	var g gitInfo
	gitDir, commonDir := findGitDir(cwd)
	if gitDir == "" {
		return g
	}
	head := strings.TrimSpace(string(readFile(filepath.Join(gitDir, "HEAD"))))
	if ref, ok := strings.CutPrefix(head, "ref:"); ok {
		ref = strings.TrimSpace(ref)
		g.branch = strings.TrimPrefix(ref, "refs/heads/")
		g.commit = resolveRef(gitDir, commonDir, ref)
	} else if isHex40(head) {
		g.commit = head // detached HEAD: no branch
	}
	g.repoURL = firstRemoteURL(readFile(filepath.Join(commonDir, "config")))
	return g
}

func isHex40(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func resolveRef(gitDir, commonDir, ref string) string {
	for _, d := range []string{gitDir, commonDir} {
		if s := strings.TrimSpace(string(readFile(filepath.Join(d, filepath.FromSlash(ref))))); isHex40(s) {
			return s
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(readFile(filepath.Join(commonDir, "packed-refs"))))
	for sc.Scan() {
		line := sc.Text()
		if sha, name, ok := strings.Cut(line, " "); ok && name == ref && isHex40(sha) {
			return sha
		}
	}
	return ""
}

// firstRemoteURL returns the url of the first [remote "…"] section of a git
// config file, without credentials.
func firstRemoteURL(config []byte) string {
	inRemote := false
	sc := bufio.NewScanner(bytes.NewReader(config))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			inRemote = strings.HasPrefix(line, "[remote ")
			continue
		}
		if !inRemote {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "url") {
			return stripCredentials(strings.Trim(strings.TrimSpace(v), `"`))
		}
	}
	return ""
}

// stripCredentials drops user:password@ from URLs with a scheme, as MLflow
// does; scp-like addresses (git@host:org/repo.git) are kept.
func stripCredentials(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.User == nil {
		return raw
	}
	u.User = nil
	return u.String()
}
