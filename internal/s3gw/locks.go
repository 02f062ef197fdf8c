package s3gw

import (
	"hash/maphash"
	"strconv"
	"sync"
	"sync/atomic"
)

const stripes = 1024

// locks serialise, within the process, the writes whose accounting reads
// what they replace first (the size of the old object or part), so the read,
// the write and the settle see no other write to the same thing in between.
// Striped: two names sharing a stripe only wait for each other.
//
// Order, to rule out deadlocks: upload, then part, then objects (two object
// locks in stripe order). Nobody holds two locks of the same kind otherwise.
type locks struct {
	seed    maphash.Seed
	objects [stripes]sync.Mutex
	uploads [stripes]sync.RWMutex // parts share (R), complete/abort exclude (W)
	parts   [stripes]sync.Mutex
}

func newLocks() *locks { return &locks{seed: maphash.MakeSeed()} }

func (l *locks) index(a, b string) int {
	var h maphash.Hash
	h.SetSeed(l.seed)
	h.WriteString(a)
	h.WriteByte(0)
	h.WriteString(b)
	return int(h.Sum64() % stripes)
}

// object locks one object.
func (l *locks) object(bucket, key string) func() {
	m := &l.objects[l.index(bucket, key)]
	m.Lock()
	return m.Unlock
}

// objects locks two objects (a copy's source and destination).
func (l *locks) objects2(b1, k1, b2, k2 string) func() {
	i, j := l.index(b1, k1), l.index(b2, k2)
	if i == j {
		l.objects[i].Lock()
		return l.objects[i].Unlock
	}
	if i > j {
		i, j = j, i
	}
	l.objects[i].Lock()
	l.objects[j].Lock()
	return func() { l.objects[j].Unlock(); l.objects[i].Unlock() }
}

// uploadShared is taken by a part upload; uploadExclusive by complete and
// abort, which account for every part of the upload.
func (l *locks) uploadShared(uploadID string) func() {
	m := &l.uploads[l.index(uploadID, "")]
	m.RLock()
	return m.RUnlock
}

func (l *locks) uploadExclusive(uploadID string) func() {
	m := &l.uploads[l.index(uploadID, "")]
	m.Lock()
	return m.Unlock
}

func (l *locks) part(uploadID string, part int32) func() {
	m := &l.parts[l.index(uploadID, strconv.Itoa(int(part)))]
	m.Lock()
	return m.Unlock
}

// activity counts the writes in flight per bucket and bumps a generation on
// each start and end, so the reconciliation can tell a walk that raced a
// write (counters and files may disagree for a moment) from real drift.
type activity struct{ m sync.Map } // bucket → *bucketActivity

type bucketActivity struct {
	inflight atomic.Int64
	gen      atomic.Uint64
}

func (a *activity) of(bucket string) *bucketActivity {
	if v, ok := a.m.Load(bucket); ok {
		return v.(*bucketActivity)
	}
	v, _ := a.m.LoadOrStore(bucket, &bucketActivity{})
	return v.(*bucketActivity)
}

// begin marks a write to bucket; the returned func ends it.
func (a *activity) begin(bucket string) func() {
	b := a.of(bucket)
	b.gen.Add(1)
	b.inflight.Add(1)
	return func() {
		b.inflight.Add(-1)
		b.gen.Add(1)
	}
}

// snapshot returns a bucket's generation, and whether a write is in flight.
func (a *activity) snapshot(bucket string) (uint64, bool) {
	b := a.of(bucket)
	return b.gen.Load(), b.inflight.Load() > 0
}
