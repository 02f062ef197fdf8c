package s3gw

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"hash/maphash"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/trellis-cloud/trellis/internal/nodelock"
)

const stripes = 1024

// locks serialise the writes whose accounting reads what they replace first
// (the size of the old object or part), so the read, the write and the
// settle see no other write to the same thing in between. Two layers:
// striped mutexes within the process (two names sharing a stripe only wait
// for each other), then, when nodes may share the store, a lock in the
// database (cluster) that every node honours. The mutex comes first, so a
// node's own writes to one name queue in memory and only one of them at a
// time asks the database.
//
// Order, to rule out deadlocks: upload, then part, then objects (two object
// locks in stripe order in memory, then in name order in the database).
// Nobody holds two locks of the same kind otherwise.
type locks struct {
	seed    maphash.Seed
	objects [stripes]sync.Mutex
	uploads [stripes]sync.RWMutex // parts share (R), complete/abort exclude (W)
	parts   [stripes]sync.Mutex
	cluster ClusterLocks // nil: this process is the store's only writer
	// tookOver runs, under an object's lock, when that lock was taken from
	// a dead node: it settles what that node left reserved on the object
	// first (recovery decides from what is stored, so it must look before
	// this write changes the object).
	tookOver func(ctx context.Context, bucket, key string) error
}

// ClusterLocks holds locks across the nodes sharing the database
// (*nodelock.Locker). Lock waits while another node holds name, bounded;
// the returned func releases it.
type ClusterLocks interface {
	Lock(ctx context.Context, name string, mode nodelock.Mode) (release func(), tookOver bool, err error)
	Purge(ctx context.Context) error
}

func newLocks(cluster ClusterLocks) *locks { return &locks{seed: maphash.MakeSeed(), cluster: cluster} }

func (l *locks) index(a, b string) int {
	var h maphash.Hash
	h.SetSeed(l.seed)
	h.WriteString(a)
	h.WriteByte(0)
	h.WriteString(b)
	return int(h.Sum64() % stripes)
}

// lockName names what is locked in the database: a hash, so keys of any
// bytes and length make a short, valid text.
func lockName(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// both runs the database lock after the in-process one, undoing the latter
// if the former fails. The request's context is fasthttp's, whose Done may
// not be read while the server shuts down (a data race inside fasthttp),
// so database calls get it without cancellation; the lock's own wait is
// bounded.
func (l *locks) both(ctx context.Context, unlock func(), name string, mode nodelock.Mode) (func(), bool, error) {
	if l.cluster == nil {
		return unlock, false, nil
	}
	release, took, err := l.cluster.Lock(context.WithoutCancel(ctx), name, mode)
	if err != nil {
		unlock()
		return nil, false, err
	}
	return func() { release(); unlock() }, took, nil
}

// objectTaken runs tookOver for each object whose lock was taken over.
func (l *locks) objectTaken(ctx context.Context, unlock func(), took []bool, objs ...[2]string) (func(), error) {
	for i, t := range took {
		if t && l.tookOver != nil {
			if err := l.tookOver(context.WithoutCancel(ctx), objs[i][0], objs[i][1]); err != nil {
				unlock()
				return nil, err
			}
		}
	}
	return unlock, nil
}

func ignoreTook(unlock func(), _ bool, err error) (func(), error) { return unlock, err }

// object locks one object.
func (l *locks) object(ctx context.Context, bucket, key string) (func(), error) {
	m := &l.objects[l.index(bucket, key)]
	m.Lock()
	unlock, took, err := l.both(ctx, m.Unlock, lockName("object", bucket, key), nodelock.Exclusive)
	if err != nil {
		return nil, err
	}
	return l.objectTaken(ctx, unlock, []bool{took}, [2]string{bucket, key})
}

// objects2 locks two objects (a copy's source and destination).
func (l *locks) objects2(ctx context.Context, b1, k1, b2, k2 string) (func(), error) {
	i, j := l.index(b1, k1), l.index(b2, k2)
	var unlock func()
	switch {
	case i == j:
		l.objects[i].Lock()
		unlock = l.objects[i].Unlock
	default:
		if i > j {
			i, j = j, i
		}
		l.objects[i].Lock()
		l.objects[j].Lock()
		unlock = func() { l.objects[j].Unlock(); l.objects[i].Unlock() }
	}
	if l.cluster == nil {
		return unlock, nil
	}
	o1, o2 := [2]string{b1, k1}, [2]string{b2, k2}
	n1, n2 := lockName("object", b1, k1), lockName("object", b2, k2)
	if n1 == n2 {
		unlock, took, err := l.both(ctx, unlock, n1, nodelock.Exclusive)
		if err != nil {
			return nil, err
		}
		return l.objectTaken(ctx, unlock, []bool{took}, o1)
	}
	if n1 > n2 {
		n1, n2, o1, o2 = n2, n1, o2, o1
	}
	unlock, took1, err := l.both(ctx, unlock, n1, nodelock.Exclusive)
	if err != nil {
		return nil, err
	}
	unlock, took2, err := l.both(ctx, unlock, n2, nodelock.Exclusive)
	if err != nil {
		return nil, err
	}
	return l.objectTaken(ctx, unlock, []bool{took1, took2}, o1, o2)
}

// uploadShared is taken by a part upload; uploadExclusive by complete and
// abort, which account for every part of the upload.
func (l *locks) uploadShared(ctx context.Context, bucket, key, uploadID string) (func(), error) {
	m := &l.uploads[l.index(uploadID, "")]
	m.RLock()
	return ignoreTook(l.both(ctx, m.RUnlock, lockName("upload", bucket, key, uploadID), nodelock.Shared))
}

func (l *locks) uploadExclusive(ctx context.Context, bucket, key, uploadID string) (func(), error) {
	m := &l.uploads[l.index(uploadID, "")]
	m.Lock()
	return ignoreTook(l.both(ctx, m.Unlock, lockName("upload", bucket, key, uploadID), nodelock.ExclusiveOfShared))
}

func (l *locks) part(ctx context.Context, bucket, key, uploadID string, part int32) (func(), error) {
	m := &l.parts[l.index(uploadID, strconv.Itoa(int(part)))]
	m.Lock()
	return ignoreTook(l.both(ctx, m.Unlock, lockName("part", bucket, key, uploadID, strconv.Itoa(int(part))), nodelock.Exclusive))
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
