package keys

import "strconv"

// ChunkValue is the attribute of a chunk event (ChunkEvent) that holds the
// chunk, as MLflow records a streamed answer.
const ChunkValue = "mlflow.chunk.value"

// ChunkEvent returns "mlflow.chunk.item.<n>", the name of the span event
// MLflow records for the n-th chunk (from 0) of a stream; the names of the
// first chunks are not built again for every chunk.
func ChunkEvent(n int) string {
	if n >= 0 && n < len(chunkEvents) {
		return chunkEvents[n]
	}
	return chunkEventPrefix + strconv.Itoa(n)
}

const chunkEventPrefix = "mlflow.chunk.item."

var chunkEvents = func() (names [256]string) {
	for i := range names {
		names[i] = chunkEventPrefix + strconv.Itoa(i)
	}
	return names
}()
