package buckets

import (
	"context"
	"sync"
)

// committer groups the accounting's small transactions: the S3 server
// reserves and settles bytes for every write, and with many writes in
// flight one transaction per call would make them queue for the database's
// writer one by one. Calls that arrive while a transaction runs wait and go
// together in the next one (group commit), with no goroutine of its own:
// the first waiter leads the next batch.
//
// Each call's fn must leave the transaction usable when it reports a
// business outcome (a refused reservation, a reservation already gone):
// such outcomes are kept in the caller's closure and fn returns nil; an
// error from fn is a database error, and then every call of the batch runs
// again on its own, so one failing call never fails the others.
type committer struct {
	mu      sync.Mutex
	queue   []*call
	running bool
}

type call struct {
	fn   func(tx Store) error
	done chan error    // the outcome
	lead chan struct{} // closed when this call leads the next batch
}

// maxBatch bounds a group (a long transaction holds SQLite's writer).
const maxBatch = 64

func (c *committer) do(ctx context.Context, st Store, fn func(tx Store) error) error {
	me := &call{fn: fn, done: make(chan error, 1), lead: make(chan struct{})}
	c.mu.Lock()
	c.queue = append(c.queue, me)
	if c.running {
		c.mu.Unlock()
		select {
		case err := <-me.done:
			return err
		case <-me.lead:
		}
	} else {
		c.running = true
		c.mu.Unlock()
	}
	// This call leads: take what is queued (itself included), run it,
	// hand the lead to the first call that arrived meanwhile.
	c.mu.Lock()
	n := min(len(c.queue), maxBatch)
	batch := c.queue[:n:n]
	c.queue = c.queue[n:]
	c.mu.Unlock()
	run(context.WithoutCancel(ctx), st, batch)
	c.mu.Lock()
	if len(c.queue) > 0 {
		close(c.queue[0].lead)
	} else {
		c.running = false
	}
	c.mu.Unlock()
	return <-me.done
}

func run(ctx context.Context, st Store, batch []*call) {
	err := st.Tx(ctx, func(tx Store) error {
		for _, c := range batch {
			if err := c.fn(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil || len(batch) == 1 {
		for _, c := range batch {
			c.done <- err
		}
		return
	}
	for _, c := range batch {
		c.done <- st.Tx(ctx, c.fn)
	}
}
