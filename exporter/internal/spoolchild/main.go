// Command spoolchild is the process the spool's crash tests start, kill
// and restart (exporter/spool_crash_test.go). It is configured only from
// the environment, through tracing.Init, like any program using this SDK:
// MLFLOW_TRACKING_URI, MLFLOW_EXPERIMENT_ID / MLFLOW_TRACING_DESTINATION,
// DATABRICKS_*, MLFLOWTRACE_SPOOL_DIR.
//
//	-mode record   records -n traces of 6 spans (trace i has the same
//	               content in every run: tag spool.index=i), printing
//	               "spooled K" whenever Stats.TracesSpooled grows, then
//	               "recorded N", then waits; SIGTERM shuts it down (bounded
//	               by -grace) and it prints "stats {…}".
//	-mode deliver  records nothing: waits until the spool it inherited is
//	               delivered (no record pending, no dead letter), prints
//	               "replayed K" as it goes, shuts down, prints "stats {…}".
//	-mode once     records -n traces, shuts down, prints "stats {…}".
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mlflowtrace/mlflowtrace-go/tracing"
)

func main() {
	mode := flag.String("mode", "record", "record, deliver or once")
	n := flag.Int("n", 500, "traces to record")
	first := flag.Int("first", 0, "index of the first trace")
	grace := flag.Duration("grace", 2*time.Second, "Shutdown's bound at SIGTERM")
	timeout := flag.Duration("timeout", 5*time.Minute, "deliver: give up after this long")
	flag.Parse()

	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	p, err := tracing.Init(context.Background())
	if err != nil {
		fail(err)
	}
	switch *mode {
	case "record", "once":
		last := int64(0)
		for i := *first; i < *first+*n; i++ {
			record(i)
			if s := p.Stats().TracesSpooled; s != last {
				last = s
				fmt.Println("spooled", s)
			}
		}
		fmt.Println("recorded", *n)
		if *mode == "record" {
			for {
				select {
				case <-term:
					shutdown(p, *grace)
					return
				case <-time.After(5 * time.Millisecond):
					if s := p.Stats().TracesSpooled; s != last {
						last = s
						fmt.Println("spooled", s)
					}
				}
			}
		}
		shutdown(p, time.Minute)
	case "deliver":
		deadline := time.Now().Add(*timeout)
		var last int64
		for {
			st := p.Stats()
			if st.TracesReplayed != last {
				last = st.TracesReplayed
				fmt.Println("replayed", last)
			}
			if st.SpoolPending == 0 && st.SpoolDeadLetters == 0 {
				break
			}
			if time.Now().After(deadline) {
				b, _ := json.Marshal(st)
				fail(fmt.Errorf("the spool was not delivered in %v: %s", *timeout, b))
			}
			select {
			case <-term:
				shutdown(p, *grace)
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
		shutdown(p, time.Minute)
	default:
		fail(fmt.Errorf("unknown -mode %q", *mode))
	}
}

func shutdown(p *tracing.Provider, grace time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := p.Shutdown(ctx)
	b, _ := json.Marshal(p.Stats())
	fmt.Println("stats", string(b))
	if err != nil {
		fmt.Fprintln(os.Stderr, "shutdown:", err)
	}
}

// record records trace i: an agent with five steps, the same content in
// every run.
func record(i int) {
	idx := strconv.Itoa(i)
	pad := strings.Repeat("lorem ipsum ", 20)
	ctx, root := tracing.StartSpan(context.Background(), "agent", tracing.WithSpanType(tracing.SpanTypeAgent),
		tracing.WithInputs(map[string]any{"question": "question " + idx, "context": pad}))
	_ = tracing.UpdateCurrentTrace(ctx, tracing.WithTags(map[string]string{"spool.index": idx}))
	for _, step := range []struct {
		name string
		typ  tracing.SpanType
	}{
		{"plan", tracing.SpanTypeChain}, {"retrieve", tracing.SpanTypeRetriever}, {"chat", tracing.SpanTypeChatModel},
		{"tool", tracing.SpanTypeTool}, {"parse", tracing.SpanTypeParser},
	} {
		_, s := tracing.StartSpan(ctx, step.name, tracing.WithSpanType(step.typ),
			tracing.WithInputs(map[string]any{"step": step.name, "index": i, "text": pad}),
			tracing.WithAttributes(map[string]any{"spool.step": step.name}))
		s.End(tracing.WithOutputs(map[string]any{"result": step.name + " " + idx}))
	}
	root.End(tracing.WithOutputs(map[string]any{"answer": "answer " + idx}))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "spoolchild:", err)
	os.Exit(1)
}
