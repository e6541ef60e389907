package envmeta

import (
	"os"
	"os/user"
	"path/filepath"
	"testing"

	"github.com/mlflowtrace/mlflowtrace-go/internal/envconfig"
	"github.com/mlflowtrace/mlflowtrace-go/internal/keys"
)

func env(m map[string]string) envconfig.Env {
	return envconfig.New(func(k string) string { return m[k] })
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

const sha1 = "0123456789abcdef0123456789abcdef01234567"
const sha2 = "89abcdef0123456789abcdef0123456789abcdef"

func TestCollect(t *testing.T) {
	repo := t.TempDir()
	write(t, filepath.Join(repo, ".git/HEAD"), "ref: refs/heads/feature/x\n")
	write(t, filepath.Join(repo, ".git/refs/heads/feature/x"), sha1+"\n")
	write(t, filepath.Join(repo, ".git/config"), "[core]\n\tbare = false\n[remote \"origin\"]\n\turl = https://user:tok@github.com/o/r.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n[remote \"b\"]\n\turl = git@x:y.git\n")
	sub := filepath.Join(repo, "a/b")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	packed := t.TempDir()
	write(t, filepath.Join(packed, ".git/HEAD"), "ref: refs/heads/main\n")
	write(t, filepath.Join(packed, ".git/packed-refs"), "# pack-refs with: peeled\n"+sha2+" refs/heads/main\n")
	write(t, filepath.Join(packed, ".git/config"), "[remote \"origin\"]\n\turl = git@github.com:o/r.git\n")
	detached := t.TempDir()
	write(t, filepath.Join(detached, ".git/HEAD"), sha2+"\n")
	worktree := t.TempDir()
	write(t, filepath.Join(worktree, ".git"), "gitdir: "+filepath.Join(repo, ".git/worktrees/wt")+"\n")
	write(t, filepath.Join(repo, ".git/worktrees/wt/HEAD"), "ref: refs/heads/wt\n")
	write(t, filepath.Join(repo, ".git/worktrees/wt/commondir"), "../..\n")
	write(t, filepath.Join(repo, ".git/refs/heads/wt"), sha2+"\n")
	none := t.TempDir()

	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		cwd, rev string
		want     map[string]string
	}{
		{"repo subdir", map[string]string{"USER": "alice", "LOGNAME": "al"}, []string{"./agent", "-x"}, sub, "",
			map[string]string{keys.MetaMLflowUser: "al", keys.MetaSourceName: "./agent", keys.MetaSourceType: "LOCAL",
				keys.MetaGitCommit: sha1, keys.MetaGitBranch: "feature/x", keys.MetaGitRepoURL: "https://github.com/o/r.git"}},
		{"build info revision wins", map[string]string{"MLFLOW_TRACKING_USERNAME": "svc", "USER": "bob"}, []string{"/bin/agent"}, sub, sha2,
			map[string]string{keys.MetaMLflowUser: "svc", keys.MetaSourceName: "/bin/agent", keys.MetaSourceType: "LOCAL",
				keys.MetaGitCommit: sha2, keys.MetaGitBranch: "feature/x", keys.MetaGitRepoURL: "https://github.com/o/r.git"}},
		{"packed refs", map[string]string{"USER": "bob"}, []string{"a"}, packed, "",
			map[string]string{keys.MetaMLflowUser: "bob", keys.MetaSourceName: "a", keys.MetaSourceType: "LOCAL",
				keys.MetaGitCommit: sha2, keys.MetaGitBranch: "main", keys.MetaGitRepoURL: "git@github.com:o/r.git"}},
		{"detached", map[string]string{"USER": "bob"}, []string{"a"}, detached, "",
			map[string]string{keys.MetaMLflowUser: "bob", keys.MetaSourceName: "a", keys.MetaSourceType: "LOCAL",
				keys.MetaGitCommit: sha2, keys.MetaGitBranch: "", keys.MetaGitRepoURL: ""}},
		{"worktree", map[string]string{"USER": "bob"}, []string{"a"}, worktree, "",
			map[string]string{keys.MetaMLflowUser: "bob", keys.MetaSourceName: "a", keys.MetaSourceType: "LOCAL",
				keys.MetaGitCommit: sha2, keys.MetaGitBranch: "wt", keys.MetaGitRepoURL: "https://github.com/o/r.git"}},
		{"no repo no args", map[string]string{"USERNAME": "win"}, nil, none, "",
			map[string]string{keys.MetaMLflowUser: "win", keys.MetaSourceName: "<console>", keys.MetaSourceType: "LOCAL",
				keys.MetaGitCommit: "", keys.MetaGitBranch: "", keys.MetaGitRepoURL: ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := collect(env(tt.env), tt.args, tt.cwd, tt.rev)
			if len(got) != len(tt.want) {
				t.Errorf("got %d keys %v, want %d", len(got), got, len(tt.want))
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func TestCollectReal(t *testing.T) {
	m := Collect(env(nil))
	if m[keys.MetaMLflowUser] == "" || m[keys.MetaSourceName] == "" || m[keys.MetaSourceType] != "LOCAL" {
		t.Fatalf("unexpected metadata %v", m)
	}
	if _, ok := m[keys.MetaGitCommit]; !ok {
		t.Fatal("git commit key missing")
	}
}

// TestUserName: MLFLOW_TRACKING_USERNAME (read through envconfig: trimmed,
// blank is unset), else the first of getpass's login-name variables, else
// the account database.
func TestUserName(t *testing.T) {
	account := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		account = u.Username
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"tracking username wins", map[string]string{"MLFLOW_TRACKING_USERNAME": "svc", "LOGNAME": "al", "USER": "alice"}, "svc"},
		{"tracking username trimmed", map[string]string{"MLFLOW_TRACKING_USERNAME": " svc "}, "svc"},
		{"blank tracking username is unset", map[string]string{"MLFLOW_TRACKING_USERNAME": "  ", "USER": "alice"}, "alice"},
		{"LOGNAME first", map[string]string{"LOGNAME": "al", "USER": "alice", "LNAME": "l", "USERNAME": "win"}, "al"},
		{"then USER", map[string]string{"USER": "alice", "LNAME": "l", "USERNAME": "win"}, "alice"},
		{"then LNAME", map[string]string{"LNAME": "l", "USERNAME": "win"}, "l"},
		{"then USERNAME", map[string]string{"USERNAME": "win"}, "win"},
		{"login name as is", map[string]string{"USER": " alice "}, " alice "},
		{"account database", map[string]string{}, account},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := userName(env(tc.env)); got != tc.want {
				t.Errorf("userName = %q, want %q", got, tc.want)
			}
		})
	}
}
