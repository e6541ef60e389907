package bufpool_test

import (
	"fmt"

	"github.com/mlflowtrace/mlflowtrace-go/internal/bufpool"
)

func ExamplePool() {
	scratch := bufpool.New(1024, 1<<20)

	bp := scratch.Get()
	b := append(*bp, `{"name": "plan"}`...)
	size := len(b)
	scratch.Put(bp, b) // b is not used after this

	fmt.Println(size)
	// Output: 16
}
