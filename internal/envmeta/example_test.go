package envmeta_test

import (
	"fmt"

	"github.com/mlflowtrace/mlflowtrace-go/internal/envconfig"
	"github.com/mlflowtrace/mlflowtrace-go/internal/envmeta"
)

func ExampleCollect() {
	meta := envmeta.Collect(envconfig.Env{}) // the process environment
	fmt.Println(meta["mlflow.source.type"])
	// Output: LOCAL
}
