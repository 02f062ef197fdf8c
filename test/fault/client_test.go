package fault

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/idcloudhost"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/impossiblecloud"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/infiterra"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/itglobal"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/native"
)

// stats are the suite's figures.
type stats struct {
	sent      atomic.Int64 // HTTP and S3 requests that reached the wire
	acked     atomic.Int64 // 2xx (and S3 successes)
	refused   atomic.Int64 // 4xx: a clear answer, not an acknowledgement
	serverErr atomic.Int64 // 5xx
	netErr    atomic.Int64 // connection refused/reset, timeouts: the node was dead or hung
	kills     atomic.Int64
	restarts  atomic.Int64
}

// cluster sends requests to any live node, and to the next one when a node
// does not answer.
type cluster struct {
	t      *testing.T
	nodes  []*node
	st     *stats
	client *http.Client

	logMu  sync.Mutex
	logged map[string]int // no-answer kinds logged so far

	vOnce sync.Once
	vals  map[string]*apitest.Validator
}

func (c *cluster) validator(path string) *apitest.Validator {
	c.vOnce.Do(func() {
		c.vals = map[string]*apitest.Validator{
			impossiblecloud.Prefix + "/": apitest.NewValidator(c.t, impossiblecloud.Spec()),
			native.Prefix + "/":          apitest.NewValidator(c.t, native.Spec30()),
			itglobal.Prefix + "/":        apitest.NewValidator(c.t, itglobal.Spec()),
			infiterra.Prefix + "/":       apitest.NewValidator(c.t, infiterra.Spec()),
			"/idcloudhost/v1/":           apitest.NewValidator(c.t, idcloudhost.Spec()),
		}
	})
	var best string
	for prefix := range c.vals {
		if strings.HasPrefix(path, prefix) && len(prefix) > len(best) {
			best = prefix
		}
	}
	return c.vals[best]
}

// request is one API call; header values and body are sent as given.
type request struct {
	method, path string
	header       http.Header
	body         []byte
}

// reply is the answer of the node that answered.
type reply struct {
	status int
	body   []byte
	node   string
}

var errNoNode = errors.New("no node answered")

// do sends r to a random node and, when that node does not answer (dead,
// reset, hung past the client timeout), to the others; it gives up after
// every node failed `rounds` times. Answers are checked against the
// dialect's spec.
func (c *cluster) do(rng *rand.Rand, r request, rounds int) (reply, error) {
	first := rng.IntN(len(c.nodes))
	for round := range rounds {
		for i := range c.nodes {
			n := c.nodes[(first+i)%len(c.nodes)]
			rep, err := c.doOn(n, r)
			if err == nil {
				return rep, nil
			}
		}
		if round < rounds-1 {
			time.Sleep(time.Duration(200+rng.IntN(300)) * time.Millisecond)
		}
	}
	return reply{}, errNoNode
}

// doOn sends r to one node; an error means it did not answer.
func (c *cluster) doOn(n *node, r request) (reply, error) {
	req, err := http.NewRequest(r.method, n.URL+r.path, bytes.NewReader(r.body))
	if err != nil {
		c.t.Fatal(err)
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	c.st.sent.Add(1)
	if r.header.Get("Idempotency-Key") != "" {
		n.keyedInFlight.Add(1)
		defer n.keyedInFlight.Add(-1)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		c.noAnswer(n, r.method+" "+r.path, err)
		return reply{}, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		c.noAnswer(n, r.method+" "+r.path, err)
		return reply{}, err
	}
	switch {
	case resp.StatusCode < 300:
		c.st.acked.Add(1)
	case resp.StatusCode < 500:
		c.st.refused.Add(1)
	default:
		c.st.serverErr.Add(1)
	}
	path := r.path
	if v := c.validator(path); v != nil {
		v.Check(c.t, apitest.Request{Method: r.method, Path: path, Header: r.header.Clone(), Body: r.body},
			apitest.Response{Status: resp.StatusCode, Header: resp.Header, Body: body})
	} else {
		c.t.Errorf("no spec for %s", path)
	}
	return reply{status: resp.StatusCode, body: body, node: n.name}, nil
}

func bearer(key string) http.Header {
	return http.Header{"Authorization": {"Bearer " + key}, "Content-Type": {"application/json"}}
}

// noAnswer counts a request a node did not answer. Refused connections are
// expected from a killed node; anything else (a timeout, a reset while the
// node was up) is logged, a few of each, as evidence.
func (c *cluster) noAnswer(n *node, what string, err error) {
	c.st.netErr.Add(1)
	if errors.Is(err, syscall.ECONNREFUSED) {
		return
	}
	kind := "other"
	switch {
	case errors.Is(err, syscall.ECONNRESET):
		kind = "reset"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		kind = "eof"
	case os.IsTimeout(err):
		kind = "timeout"
	}
	c.logMu.Lock()
	defer c.logMu.Unlock()
	if c.logged == nil {
		c.logged = map[string]int{}
	}
	c.logged[kind]++
	if c.logged[kind] <= 5 {
		c.t.Logf("no answer (%s) from %s (alive %t) to %s: %v", kind, n.name, n.isAlive(), what, err)
	}
}
