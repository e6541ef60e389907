package transport

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"time"
)

// DoPipelined sends reqs, each as Do would, and returns their outcomes in
// order (resps[i] or errs[i]).
//
// On the package's own connections the requests are written back to back on
// one keep-alive connection (HTTP/1.1 pipelining) and the answers read in
// order: the server answers them one after the other, as it would have
// sequentially, but the batch costs one write instead of one per request,
// and the answers are read after one wait instead of a wake-up for every
// TCP segment of every answer (direct.pipeline). An attempt that fails
// there — an error status, or no answer because the connection broke — is
// retried on its own, exactly as Do retries it (the pipeline's attempt
// counts as the first).
//
// Each request goes through Do in turn instead when pipelining cannot
// apply: fewer than two requests, a request with an absolute URL or a
// GetBody, a caller's HTTPClient, a proxy; and, for the rest of the
// Client's life, once a pipeline broke off after an answer without the
// context being done (a server or proxy that does not keep pipelined
// requests).
func (c *Client) DoPipelined(ctx context.Context, reqs []*Request) ([]*Response, []error) {
	d := c.pipeliner(reqs)
	if d == nil {
		return c.DoInTurn(ctx, reqs)
	}
	resps, errs := make([]*Response, len(reqs)), make([]error, len(reqs))
	calls := c.newCalls(reqs)
	defer func() {
		for _, cl := range calls {
			cl.end()
		}
	}()
	if err := ctx.Err(); err != nil {
		for i, r := range reqs {
			errs[i] = c.newError(r, 0, nil, err)
		}
		return resps, errs
	}

	// The pipeline's attempt: one per request, under the retry budget.
	pctx, cancel := context.WithDeadline(ctx, calls[0].deadline)
	defer cancel()
	firsts := make([]*attempt, len(reqs))
	var (
		hreqs   []*http.Request
		index   []int // hreqs[k] is the attempt of reqs[index[k]]
		extras  [][]string
		timeout time.Duration
	)
	for i, cl := range calls {
		hreq, extra, err := c.prepare(pctx, cl)
		if err != nil {
			firsts[i] = &attempt{err: err}
			continue
		}
		hreqs, index, extras = append(hreqs, hreq), append(index, i), append(extras, extra)
		timeout = max(timeout, c.timeout(cl.req))
	}
	if len(hreqs) > 0 {
		answered, perr := d.pipeline(pctx, hreqs, timeout, func(k int, hresp *http.Response) bool {
			a, bodyRead := c.answer(ctx, reqs[index[k]], hreqs[k], hresp, extras[k])
			firsts[index[k]] = &a
			return bodyRead
		})
		for k := answered; k < len(hreqs); k++ {
			e := c.newError(reqs[index[k]], 0, nil, unwrapURLError(perr), extras[k]...)
			e.Retryable = ctx.Err() == nil // not our own cancellation
			firsts[index[k]] = &attempt{sent: hreqs[k], err: e}
		}
		if answered > 0 && answered < len(hreqs) && ctx.Err() == nil && errors.Is(perr, errPipelineBroken) {
			c.noPipeline.Store(true)
		}
	}
	for i, cl := range calls {
		resps[i], errs[i] = c.run(ctx, cl, firsts[i])
	}
	return resps, errs
}

// DoInTurn sends reqs one after the other, each through Do once the answer
// to the one before has arrived, and returns their outcomes in order.
func (c *Client) DoInTurn(ctx context.Context, reqs []*Request) ([]*Response, []error) {
	resps, errs := make([]*Response, len(reqs)), make([]error, len(reqs))
	for i, r := range reqs {
		resps[i], errs[i] = c.Do(ctx, r)
	}
	return resps, errs
}

// pipeliner returns the RoundTripper that can pipeline reqs, or nil.
func (c *Client) pipeliner(reqs []*Request) *direct {
	if len(reqs) < 2 || c.noPipeline.Load() || !c.ownsHC {
		return nil
	}
	d, ok := c.hc.Transport.(*direct)
	if !ok {
		return nil
	}
	for _, r := range reqs {
		if r.URL != "" || r.GetBody != nil {
			return nil
		}
	}
	if !d.handles(&http.Request{URL: c.base}) {
		return nil
	}
	return d
}

// errPipelineBroken: the server closed the connection, or said it would,
// before every pipelined request was answered.
var errPipelineBroken = errors.New("the connection closed before every pipelined request was answered")

// maxPipelineWait bounds one wait for a pipeline's answers.
const maxPipelineWait = 2 * time.Second

// holdReadBytes is the low-water mark a connection's socket gets while the
// reader sleeps through a pipeline's answers: answers that arrive meanwhile
// wake nobody unless they pile up beyond it.
const holdReadBytes = 256 << 10

// pipeline writes reqs, all to the same host, back to back on one
// connection and reads their answers in order, calling answer for each,
// which must read the body (and report whether it read it to its end). It
// returns how many answers were read; err is why the rest were not. Each
// answer may take timeout after the one before (bounded by ctx).
//
// The server (uvicorn, behind MLflow) takes the requests one after the
// other and sends each answer as several TCP segments (headers, body,
// chunk trailer), each of which would wake a reader blocked on the socket:
// two or three wake-ups per answer. So when nothing has arrived yet, the
// reader sleeps instead, for as long as the answers still missing should
// take at the pace measured (the earlier answers of this pipeline, or the
// last pipeline's), with the socket's low-water mark raised
// (idleWaiter.setLowWater) so that arriving answers do not wake the
// runtime's network poller either; then it reads what has arrived. A
// pipeline that goes as expected costs one wake-up; the first blocks for
// its first answer. It sleeps only while it is the only pipeline in flight:
// with others under way the process has a backlog and is awake anyway, and
// a sleep longer than the server needs would hold the next batch back
// (unpaced, sleeping in every pipeline cut the traces delivered per second
// by a third against a real server).
func (d *direct) pipeline(ctx context.Context, reqs []*http.Request, timeout time.Duration, answer func(k int, resp *http.Response) bool) (int, error) {
	d.pipelines.Add(1)
	defer d.pipelines.Add(-1)
	c, err := d.conn(ctx, reqs[0])
	if err != nil {
		return 0, err
	}
	stop := context.AfterFunc(ctx, func() {
		_ = c.nc.SetDeadline(aLongTimeAgo)
	})
	fail := func(n int, err error) (int, error) {
		stop()
		_ = c.nc.Close()
		if cerr := ctx.Err(); cerr != nil {
			return n, cerr
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return n, context.DeadlineExceeded // an answer's timeout, as Do says it
		}
		return n, err
	}
	dl, hasDL := ctx.Deadline()
	var answerBy time.Time // the current answer's deadline
	bound := func() {
		answerBy = time.Now().Add(timeout)
		if hasDL && dl.Before(answerBy) {
			answerBy = dl
		}
		_ = c.nc.SetDeadline(answerBy)
		if ctx.Err() != nil {
			// Cancelled while the deadline was being moved: the
			// AfterFunc's past deadline may have been overwritten.
			_ = c.nc.SetDeadline(aLongTimeAgo)
		}
	}
	bound()
	for _, r := range reqs {
		if err := r.Write(c.bw); err != nil {
			return fail(0, err)
		}
	}
	if err := c.bw.Flush(); err != nil {
		return fail(0, err)
	}
	sent := time.Now()
	for k, r := range reqs {
		if k > 0 {
			bound()
		}
		if c.waiter != nil && d.pipelines.Load() == 1 && c.br.Buffered() == 0 && !c.waiter.hasUnread() {
			pace := time.Duration(d.answerPace.Load())
			if k > 0 {
				pace = time.Since(sent) / time.Duration(k)
			}
			if wait := min(pace*time.Duration(len(reqs)-k), maxPipelineWait, time.Until(answerBy)); wait > 0 {
				c.waiter.setLowWater(holdReadBytes)
				ok := sleep(ctx, wait)
				c.waiter.setLowWater(1)
				if !ok {
					return fail(k, ctx.Err())
				}
			}
		}
		resp, err := http.ReadResponse(c.br, r)
		if err != nil {
			if k > 0 && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
				err = errPipelineBroken
			}
			return fail(k, err)
		}
		bodyRead := answer(k, resp)
		if !bodyRead {
			return fail(k+1, errors.New("an answer's body could not be read"))
		}
		if resp.Close || !resp.ProtoAtLeast(1, 1) {
			if k+1 < len(reqs) {
				return fail(k+1, errPipelineBroken)
			}
			return fail(k+1, nil)
		}
	}
	d.answerPace.Store(int64(time.Since(sent) / time.Duration(len(reqs))))
	if !stop() {
		_ = c.nc.Close() // cancelled at the very end: the deadline is spoilt
		return len(reqs), nil
	}
	d.put(c)
	return len(reqs), nil
}

// idleWaiter is a connection whose socket can hold arriving data back from
// the network poller (quietConn on Linux).
type idleWaiter interface {
	// setLowWater sets how many bytes must be queued before the socket
	// reports itself readable (SO_RCVLOWAT).
	setLowWater(n int)
	// hasUnread reports whether bytes (or the peer's close) wait unread.
	hasUnread() bool
}
