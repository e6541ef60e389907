package localstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mlflowtrace/mlflowtrace-go/internal/localstore"
	"github.com/mlflowtrace/mlflowtrace-go/internal/tracemodel"
)

func ExampleNew() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)

	store, err := localstore.New(filepath.Join(dir, "mlruns"), localstore.Options{ExperimentName: "quickstart"})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	err = store.ExportTraces(ctx, []*tracemodel.Trace{{
		Info: tracemodel.TraceInfo{TraceID: "tr-0123456789abcdef0123456789abcdef", State: tracemodel.StateOK},
	}})
	fmt.Println(err)
	fmt.Println(store.Shutdown(ctx))
	_, err = os.Stat(filepath.Join(dir, "mlruns", store.ExperimentID(), "traces", "tr-0123456789abcdef0123456789abcdef", "trace_info.yaml"))
	fmt.Println(err)
	// Output:
	// <nil>
	// <nil>
	// <nil>
}
