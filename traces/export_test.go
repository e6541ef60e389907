package traces

import "time"

// SetWarehousePolls makes c's SQL warehouse poll every d (tests): the
// Databricks SDK waits 1 s, 2 s, … between polls.
func SetWarehousePolls(c *Client, d time.Duration) {
	if r, ok := c.b.(*restBackend); ok && r.wh != nil {
		r.wh.pollWait = func(int) time.Duration { return d }
	}
}

// SetWarehouseNotice sends c's SQL warehouse notices to f (tests).
func SetWarehouseNotice(c *Client, f func(string)) {
	if r, ok := c.b.(*restBackend); ok && r.wh != nil {
		r.wh.notice = f
	}
}
