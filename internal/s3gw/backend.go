// Package s3gw is Trellis's embedded S3 server: versitygw's S3 front end and
// posix backend, with Trellis's S3 keys for SigV4 (iam.go), and a backend
// wrapper (store.go) that makes every write reserve its bytes in the bucket
// accounting first (quota), settles them when done, and refuses what a
// bucket's state forbids.
package s3gw

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/versity/versitygw/backend/meta"
	"github.com/versity/versitygw/backend/posix"
	"github.com/versity/versitygw/s3err"
)

// Backend is the posix object store: objects are files under Root, their
// metadata sidecar files under MetaDir.
type Backend struct {
	*posix.Posix
	root    string
	metaDir string
	meta    meta.SideCar
}

// Root is the absolute directory the objects are stored in.
func (b *Backend) Root() string { return b.root }

// MetaDir is the absolute directory of the objects' metadata.
func (b *Backend) MetaDir() string { return b.metaDir }

// Dirs returns where a data dir keeps the object store: objects and their
// metadata side by side under <dataDir>/s3 (versitygw refuses a metadata dir
// whose path merely starts with the root's, so "s3" and "s3meta" would not do).
func Dirs(dataDir string) (root, metaDir string) {
	return filepath.Join(dataDir, "s3", "objects"), filepath.Join(dataDir, "s3", "meta")
}

// opened is the process's one posix backend: posix.New os.Chdir()s into its
// root (its paths are relative to the working directory from then on), so a
// second one would move the first one's files under it.
var opened struct {
	sync.Mutex
	b *Backend
}

// OpenBackend opens the posix backend on root (objects) and metaDir
// (metadata), creating both (0o750). There is ONE per process: posix.New
// changes the working directory to root. Opening the same dirs again returns
// the same backend; other dirs are an error. Never close it while a server
// uses it; it lives as long as the process.
func OpenBackend(root, metaDir string) (*Backend, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	metaDir, err = filepath.Abs(metaDir)
	if err != nil {
		return nil, err
	}
	opened.Lock()
	defer opened.Unlock()
	if b := opened.b; b != nil {
		if b.root == root && b.metaDir == metaDir {
			return b, nil
		}
		return nil, fmt.Errorf("s3gw: the posix backend is open on %s already (one per process: it changes the working directory)", b.root)
	}
	if root == metaDir || strings.HasPrefix(metaDir+string(filepath.Separator), root+string(filepath.Separator)) ||
		strings.HasPrefix(metaDir, root) {
		return nil, fmt.Errorf("s3gw: the metadata dir %s must not be inside (or start with the path of) the object dir %s", metaDir, root)
	}
	for _, d := range []string{root, metaDir} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, err
		}
	}
	sc, err := meta.NewSideCar(metaDir)
	if err != nil {
		return nil, err
	}
	// 5 GiB: S3's largest copy source (0 would refuse every copy).
	opts := posix.PosixOpts{SideCarDir: metaDir, CopyObjectThreshold: 5 << 30}
	opts.SetNewDirPerm(0o750)
	opts.SetNewFilePerm(0o640)
	p, err := posix.New(root, sc, opts)
	if err != nil {
		return nil, err
	}
	opened.b = &Backend{Posix: p, root: root, metaDir: metaDir, meta: sc}
	return opened.b, nil
}

// objInfo is what a write replaces: an object's (or a part's) size and ETag.
type objInfo struct {
	exists bool
	size   int64
	etag   string
}

// oldSize is the size as buckets.Write wants it (-1: none).
func (o objInfo) oldSize() int64 {
	if !o.exists {
		return -1
	}
	return o.size
}

func (o objInfo) bytes() int64 {
	if !o.exists {
		return 0
	}
	return o.size
}

// statObject returns an object's size and ETag without the rest of
// HeadObject (content type, checksums, …: a dozen sidecar reads): one stat and
// one read, with HeadObject's rules (a directory is an object only when it was
// put explicitly, i.e. has an ETag).
func (b *Backend) statObject(bucket, key string) (objInfo, error) {
	if _, err := os.Stat(filepath.Join(b.root, bucket)); errors.Is(err, fs.ErrNotExist) {
		return objInfo{}, s3err.GetBucketErr(s3err.ErrNoSuchBucket, bucket)
	}
	fi, err := os.Stat(filepath.Join(b.root, bucket, key))
	if err != nil {
		// not found, a parent that is a file, a name too long: no object
		return objInfo{}, nil
	}
	isDirKey := strings.HasSuffix(key, "/")
	if fi.IsDir() != isDirKey {
		return objInfo{}, nil
	}
	etag, err := b.meta.RetrieveAttribute(nil, bucket, key, "etag")
	if fi.IsDir() {
		if err != nil {
			return objInfo{}, nil
		}
		return objInfo{exists: true, size: 0, etag: string(etag)}, nil
	}
	return objInfo{exists: true, size: fi.Size(), etag: string(etag)}, nil
}

// statPart returns a multipart upload's part the way ListParts sees it
// (NoSuchUpload when the upload is gone), reading that one part only:
// ListParts reads every part after the marker, which would make each part
// of a many-part upload cost as much as the parts uploaded before it.
func (b *Backend) statPart(bucket, key, uploadID string, part int32) (objInfo, error) {
	if _, err := os.Stat(filepath.Join(b.root, bucket)); errors.Is(err, fs.ErrNotExist) {
		return objInfo{}, s3err.GetBucketErr(s3err.ErrNoSuchBucket, bucket)
	}
	sum := sha256.Sum256([]byte(key))
	uploadDir := filepath.Join(posix.MetaTmpMultipartDir, fmt.Sprintf("%x", sum), uploadID)
	if fi, err := os.Stat(filepath.Join(b.root, bucket, uploadDir)); err != nil || !fi.IsDir() {
		return objInfo{}, s3err.GetNoSuchUploadErr(uploadID)
	}
	partPath := filepath.Join(uploadDir, strconv.Itoa(int(part)))
	fi, err := os.Lstat(filepath.Join(b.root, bucket, partPath))
	if err != nil {
		return objInfo{}, nil
	}
	etag, _ := b.meta.RetrieveAttribute(nil, bucket, partPath, "etag")
	return objInfo{exists: true, size: fi.Size(), etag: string(etag)}, nil
}

// headObject is statObject through the backend interface, for backends
// other than the posix one.
func headObject(ctx context.Context, be interface {
	HeadObject(context.Context, *s3.HeadObjectInput) (*s3.HeadObjectOutput, error)
}, bucket, key string) (objInfo, error) {
	out, err := be.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		var apiErr s3err.APIError
		if errors.As(err, &apiErr) && (apiErr.Code == "NoSuchKey" || apiErr.Code == "NotFound") {
			return objInfo{}, nil
		}
		return objInfo{}, err
	}
	info := objInfo{exists: true}
	if out.ContentLength != nil {
		info.size = *out.ContentLength
	}
	if out.ETag != nil {
		info.etag = *out.ETag
	}
	return info, nil
}
