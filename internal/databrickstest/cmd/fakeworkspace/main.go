// Command fakeworkspace runs the fake Databricks workspace of package
// databrickstest over plain HTTP, for programs that are not Go tests: the
// Python conformance suite (MLflow's own SDK against the fake), the
// examples, the benchmark.
//
// It prints one JSON line on stdout once it listens:
//
//	{"url": "http://127.0.0.1:PORT", "token": "dapi…", "client_id": "…", "client_secret": "…", "stores": {...}}
//
// and serves until it is signalled (SIGINT, SIGTERM) or, with -stdin, until
// its stdin closes (how the test harnesses stop it). Control it through
// /__fake/ (see databrickstest.Workspace's admin API): create experiments of
// each cloud type, volume experiments and UC schemas, inject faults, read
// everything it stored with GET /__fake/state.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/internal/databrickstest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address of the workspace")
	token := flag.String("token", "", "personal access token to accept (default random)")
	verbose := flag.Bool("v", false, "log every request to stderr")
	tokenTTL := flag.Duration("token-ttl", time.Hour, "lifetime of OAuth tokens")
	watchStdin := flag.Bool("stdin", false, "exit when stdin is closed")
	flag.Parse()

	cfg := databrickstest.Config{Addr: *addr, Token: *token, TokenTTL: *tokenTTL}
	if *verbose {
		l := log.New(os.Stderr, "fakeworkspace: ", log.Lmicroseconds)
		cfg.Logf = l.Printf
	}
	w, err := databrickstest.Start(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakeworkspace:", err)
		os.Exit(1)
	}
	defer w.Close()
	st := w.State()
	b, _ := json.Marshal(map[string]any{
		"url": st.URL, "token": st.Token, "client_id": st.ClientID, "client_secret": st.ClientSecret, "stores": st.Stores,
	})
	fmt.Println(string(b))

	done := make(chan struct{})
	if *watchStdin {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin) // the parent closes stdin to stop us
			close(done)
		}()
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-done:
	case <-sig:
	}
}
