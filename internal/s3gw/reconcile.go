package s3gw

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/prometheus/client_golang/prometheus"
)

// Usage is what a bucket holds: completed objects and the parts of
// unfinished multipart uploads.
type Usage struct {
	Objects     int64
	ObjectBytes int64
	PartBytes   int64
}

// Stored is objects and parts together.
func (u Usage) Stored() int64 { return u.ObjectBytes + u.PartBytes }

// Drift is a bucket whose counters disagree with what is stored.
type Drift struct {
	Bucket  string
	Counted Usage // the accounting's counters
	Walked  Usage // what the walk found
}

// Report is one reconciliation.
type Report struct {
	Buckets   int      // buckets compared
	Drifts    []Drift  // buckets whose counters disagree with the walk
	Busy      []string // buckets written to during every attempt: not compared
	Recovered int      // reservations left by failed settles, resolved now
}

// reconcileAttempts bounds the walks of a bucket that keeps being written
// to while walked.
const reconcileAttempts = 3

// staleReservation is how old a reservation of this node must be before a
// reconciliation resolves it (younger ones may belong to a write starting).
const staleReservation = time.Minute

type reconcileMetrics struct {
	runs          prometheus.Counter
	driftBytes    *prometheus.GaugeVec
	driftObjects  *prometheus.GaugeVec
	driftedBucket prometheus.Gauge
}

func newReconcileMetrics(reg prometheus.Registerer) *reconcileMetrics {
	m := &reconcileMetrics{
		runs: prometheus.NewCounter(prometheus.CounterOpts{Name: "trellis_s3_reconcile_runs_total",
			Help: "Reconciliations of the S3 bucket counters with the stored objects."}),
		// No label names a bucket: /metrics is an operator's view, and a
		// bucket name is tenant data (the log line names the bucket).
		driftBytes: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "trellis_s3_drift_bytes",
			Help: "Bytes by which the stored objects and parts exceed (uncounted) or fall short of (overcounted) the bucket counters, summed over the buckets of the last reconciliation."},
			[]string{"direction"}),
		driftObjects: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "trellis_s3_drift_objects",
			Help: "Objects stored but not counted (uncounted) or counted but not stored (overcounted), summed over the buckets of the last reconciliation."},
			[]string{"direction"}),
		driftedBucket: prometheus.NewGauge(prometheus.GaugeOpts{Name: "trellis_s3_drifted_buckets",
			Help: "Buckets whose counters disagreed with the stored objects at the last reconciliation."}),
	}
	if reg != nil {
		m.runs = register(reg, m.runs)
		m.driftBytes = register(reg, m.driftBytes)
		m.driftObjects = register(reg, m.driftObjects)
		m.driftedBucket = register(reg, m.driftedBucket)
	}
	return m
}

// register registers c, or returns the collector already registered under
// its name (a second server on the same registry, as in tests).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
	}
	return c
}

// Reconcile walks every live bucket's objects and multipart uploads and
// compares them with the bucket's counters; each drift is logged (warn, with
// the bucket) and added to trellis_s3_drift_bytes / trellis_s3_drift_objects
// (totals, no bucket label). A bucket written
// to during its walk is walked again (a write between its file and its
// settle is no drift), up to a few times. Reservations this node left by
// failed settles are resolved first.
func (s *Server) Reconcile(ctx context.Context) (Report, error) {
	st, m := s.store, s.metrics
	m.runs.Inc()
	var rep Report
	tctx := trustedCtx(ctx)
	settled, released, err := st.recoverPending(tctx, staleReservation)
	if err != nil {
		return rep, err
	}
	rep.Recovered = settled + released

	var todo map[string]bool // nil: every bucket
	var drifts []Drift
	compared := 0
	for attempt := 0; attempt < reconcileAttempts; attempt++ {
		// The generations are read before the counters: a write that
		// starts after this changes them, and the bucket is walked again.
		gens := map[string]uint64{}
		st.activity.m.Range(func(k, v any) bool {
			gens[k.(string)] = v.(*bucketActivity).gen.Load()
			return true
		})
		live, err := st.acct.LiveBuckets(ctx)
		if err != nil {
			return rep, err
		}
		busy := map[string]bool{}
		for _, b := range live {
			if todo != nil && !todo[b.Name] {
				continue
			}
			g0 := gens[b.Name]
			if _, inflight := st.activity.snapshot(b.Name); inflight {
				busy[b.Name] = true
				continue
			}
			walked, err := st.walk(tctx, b.Name)
			if err != nil {
				if gone(err) {
					continue // deleted meanwhile
				}
				return rep, err
			}
			if g1, _ := st.activity.snapshot(b.Name); g1 != g0 {
				busy[b.Name] = true
				continue
			}
			compared++
			counted := Usage{Objects: b.NumObjects, ObjectBytes: b.SizeBytes, PartBytes: b.PartsBytes}
			if counted != walked {
				drifts = append(drifts, Drift{Bucket: b.Name, Counted: counted, Walked: walked})
			}
		}
		if len(busy) == 0 {
			break
		}
		todo = busy
		if attempt == reconcileAttempts-1 {
			for name := range busy {
				rep.Busy = append(rep.Busy, name)
			}
		} else {
			select {
			case <-ctx.Done():
				return rep, ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	rep.Buckets, rep.Drifts = compared, drifts

	s.reportDrifts(drifts)
	return rep, nil
}

// reportDrifts sets the drift metrics to the totals of drifts (bytes and
// objects the counters miss, and those they count too many) and logs each
// drifted bucket.
func (s *Server) reportDrifts(drifts []Drift) {
	var bytesUp, bytesDown, objectsUp, objectsDown int64
	for _, d := range drifts {
		b, o := d.Walked.Stored()-d.Counted.Stored(), d.Walked.Objects-d.Counted.Objects
		bytesUp, bytesDown = bytesUp+max(b, 0), bytesDown+max(-b, 0)
		objectsUp, objectsDown = objectsUp+max(o, 0), objectsDown+max(-o, 0)
	}
	m := s.metrics
	m.driftedBucket.Set(float64(len(drifts)))
	m.driftBytes.WithLabelValues("uncounted").Set(float64(bytesUp))
	m.driftBytes.WithLabelValues("overcounted").Set(float64(bytesDown))
	m.driftObjects.WithLabelValues("uncounted").Set(float64(objectsUp))
	m.driftObjects.WithLabelValues("overcounted").Set(float64(objectsDown))
	for _, d := range drifts {
		s.log.Warn("s3: bucket counters drift from the stored objects", "bucket", d.Bucket,
			"counted_objects", d.Counted.Objects, "walked_objects", d.Walked.Objects,
			"counted_object_bytes", d.Counted.ObjectBytes, "walked_object_bytes", d.Walked.ObjectBytes,
			"counted_part_bytes", d.Counted.PartBytes, "walked_part_bytes", d.Walked.PartBytes)
	}
}

// walk adds up a bucket's objects (every page of ListObjectsV2) and the
// parts of its unfinished multipart uploads.
func (s *store) walk(ctx context.Context, bucket string) (Usage, error) {
	var u Usage
	token, empty, max := "", "", int32(1000)
	for {
		in := &s3.ListObjectsV2Input{Bucket: &bucket, MaxKeys: &max, StartAfter: &empty}
		if token != "" {
			in.ContinuationToken = &token
		}
		out, err := s.Backend.ListObjectsV2(ctx, in)
		if err != nil {
			return u, err
		}
		for _, o := range out.Contents {
			u.Objects++
			if o.Size != nil {
				u.ObjectBytes += *o.Size
			}
		}
		if out.IsTruncated == nil || !*out.IsTruncated || out.NextContinuationToken == nil || *out.NextContinuationToken == "" {
			break
		}
		token = *out.NextContinuationToken
	}
	keyMarker, idMarker := "", ""
	for {
		in := &s3.ListMultipartUploadsInput{Bucket: &bucket, MaxUploads: &max}
		if keyMarker != "" {
			in.KeyMarker, in.UploadIdMarker = &keyMarker, &idMarker
		}
		out, err := s.Backend.ListMultipartUploads(ctx, in)
		if err != nil {
			return u, err
		}
		for _, up := range out.Uploads {
			n, err := s.parts(ctx, bucket, up.Key, up.UploadID)
			if err != nil {
				if gone(err) {
					continue // completed or aborted meanwhile
				}
				return u, err
			}
			u.PartBytes += n
		}
		if !out.IsTruncated || out.NextKeyMarker == "" {
			break
		}
		keyMarker, idMarker = out.NextKeyMarker, out.NextUploadIDMarker
	}
	return u, nil
}
