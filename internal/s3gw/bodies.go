package s3gw

import (
	"io"
	"net/http"

	"github.com/versity/versitygw/s3api/middlewares"
	"github.com/versity/versitygw/s3err"
)

// Request bodies: counted against what was reserved; a refused one drained.

// countingReader counts the body and refuses bytes beyond what was reserved,
// so a body longer than announced cannot store more than the quota allowed.
type countingReader struct {
	r     io.Reader
	n     int64
	limit int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.limit {
		return n, s3err.GetAPIError(s3err.ErrIncompleteBody)
	}
	return n, err
}

// checksumCountingReader keeps a trailing-checksum body recognisable: posix
// type-asserts the body to read the checksum the trailer carried.
type checksumCountingReader struct {
	*countingReader
	ck middlewares.ChecksumReader
}

func (c checksumCountingReader) Algorithm() string { return c.ck.Algorithm() }
func (c checksumCountingReader) Checksum() string  { return c.ck.Checksum() }

func countBody(body io.Reader, limit int64) (io.Reader, *countingReader) {
	if body == nil {
		body = http.NoBody
	}
	cr := &countingReader{r: body, limit: limit}
	if ck, ok := body.(middlewares.ChecksumReader); ok {
		return checksumCountingReader{countingReader: cr, ck: ck}, cr
	}
	return cr, cr
}

// maxRefusedDrain bounds how much of a refused upload's body is read and
// thrown away so that the client reads the S3 error (QuotaExceeded,
// AccessDenied) instead of a connection reset: the server answers before
// the body is read, and versitygw drains only 256 KiB before closing.
// Larger bodies still see a reset (clients send those with
// "Expect: 100-continue", and then nothing was sent yet).
const maxRefusedDrain = 16 << 20

func drainRefused(body io.Reader, size int64) {
	if body == nil || size <= 0 || size > maxRefusedDrain {
		return
	}
	_, _ = io.CopyN(io.Discard, body, size)
}
