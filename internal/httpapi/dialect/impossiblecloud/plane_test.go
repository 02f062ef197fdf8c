package impossiblecloud_test

import (
	"context"
	"sync"
)

// testPlane is the node's S3 slot in these tests: no server, but a URL the
// test may set (the listener coming up).
type testPlane struct {
	mu  sync.Mutex
	url string
}

func (p *testPlane) setURL(u string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.url = u
}

func (p *testPlane) S3URL() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.url
}

func (p *testPlane) KeyRevoked(string) {}

// noObjects purges nothing: these storage accounts have no buckets.
type noObjects struct{}

func (noObjects) PurgeStorageAccount(context.Context, string) error { return nil }
