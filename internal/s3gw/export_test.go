package s3gw

import "context"

// Info is objInfo for the tests.
type Info struct {
	Exists bool
	Size   int64
	ETag   string
}

func info(o objInfo) Info { return Info{o.exists, o.size, o.etag} }

// StatObject and HeadObjectInfo read an object both ways.
func StatObject(b *Backend, bucket, key string) (Info, error) {
	o, err := b.statObject(bucket, key)
	return info(o), err
}

func HeadObjectInfo(b *Backend, bucket, key string) (Info, error) {
	o, err := headObject(context.Background(), b, bucket, key)
	return info(o), err
}

// StatPart and ListPart read a part both ways.
func StatPart(b *Backend, bucket, key, upload string, part int32) (Info, error) {
	o, err := b.statPart(bucket, key, upload, part)
	return info(o), err
}

func ListPart(b *Backend, bucket, key, upload string, part int32) (Info, error) {
	s := &store{Backend: b}
	o, err := s.listPart(context.Background(), bucket, key, upload, part)
	return info(o), err
}

// ObjectLockName is the database lock's name of an object.
func ObjectLockName(bucket, key string) string { return lockName("object", bucket, key) }
