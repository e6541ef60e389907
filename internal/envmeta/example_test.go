package envmeta_test

import (
	"fmt"
	"os"

	"github.com/mlflowtrace/mlflowtrace-go/internal/envmeta"
)

func ExampleCollect() {
	meta := envmeta.Collect(os.Getenv)
	fmt.Println(meta["mlflow.source.type"])
	// Output: LOCAL
}
