package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"runtime/pprof"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trellis-cloud/trellis/internal/s3gw"
)

func main() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "h1tmp-")
	defer os.RemoveAll(dir)
	be, err := s3gw.OpenBackend(s3gw.Dirs(dir))
	if err != nil {
		panic(err)
	}
	p, err := s3gw.StartPlain(be, "127.0.0.1:0", "", "ROOTK", "rootsecret0123456789")
	if err != nil {
		panic(err)
	}
	c := s3.New(s3.Options{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("ROOTK", "rootsecret0123456789", ""),
		BaseEndpoint: aws.String(p.URL()), UsePathStyle: true, Retryer: aws.NopRetryer{}, HTTPClient: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}})
	b := "tmpb"
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &b}); err != nil {
		panic(err)
	}
	data := make([]byte, 64<<10)
	f, _ := os.Create("/tmp/h1cpu.prof")
	pprof.StartCPUProfile(f)
	start := time.Now()
	n := 200
	for i := range n {
		k := fmt.Sprintf("k%d", i%8)
		t := time.Now()
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: &k, Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data)))}); err != nil {
			panic(err)
		}
		if i < 5 {
			fmt.Println("put", time.Since(t))
		}
	}
	pprof.StopCPUProfile()
	fmt.Println("avg", time.Since(start)/time.Duration(n))
}
