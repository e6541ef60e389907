package keys

import (
	"strconv"
	"testing"
)

func TestChunkEvent(t *testing.T) {
	for _, n := range []int{0, 1, 17, 255, 256, 1000, -1} {
		if got, want := ChunkEvent(n), "mlflow.chunk.item."+strconv.Itoa(n); got != want {
			t.Errorf("ChunkEvent(%d) = %q, want %q", n, got, want)
		}
	}
}
