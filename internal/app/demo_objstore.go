package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/objstore"
)

// The demo storage account: under the walkthrough's partner, 10 GB, with a
// bucket holding a few objects put through the S3 server itself.
const (
	DemoStorageAccountEmail = "storage@demo.example.com"
	DemoBucket              = "demo-bucket"
)

// demoObjects are the demo bucket's objects.
var demoObjects = map[string][]byte{
	"hello.txt":       []byte("Hello from Trellis object storage.\n"),
	"docs/readme.md":  []byte("# Demo bucket\n\nPut, get and list objects here with any S3 client.\n"),
	"data/sample.bin": bytes.Repeat([]byte("0123456789abcdef"), 4096), // 64 KiB
}

// loadObjectStorageDemo creates the demo storage account (and its S3 key)
// and, when the S3 server runs, its bucket and objects; it returns the
// entries of the credentials file.
func (a *App) loadObjectStorageDemo(ctx context.Context) (map[string]string, error) {
	sys := actor.System("demo")
	accts, err := a.Objstore.ListStorageAccounts(ctx, sys, DemoPartnerID)
	if err != nil {
		return nil, err
	}
	var sa objstore.StorageAccount
	for _, x := range accts {
		if x.ContactEmail == DemoStorageAccountEmail {
			sa = x
		}
	}
	if sa.ID == "" {
		if sa, err = a.Objstore.CreateStorageAccount(ctx, sys, DemoPartnerID, objstore.CreateStorageAccountInput{
			Name: "Demo storage account", AllocatedCapacity: 10_000_000_000, ContactEmail: DemoStorageAccountEmail,
			Password: "Demo-storage-1"}); err != nil {
			return nil, fmt.Errorf("demo storage account: %w", err)
		}
	}
	_, keys, err := a.Objstore.AccountKeys(ctx, sys, DemoPartnerID, sa.ID)
	if err != nil {
		return nil, err
	}
	creds := map[string]string{
		"storage_account_id": sa.ID,
		"s3_access_key":      keys[0].AccessKey,
		"s3_secret_key":      keys[0].Secret,
	}
	url := a.Buckets.S3URL()
	if url == "" {
		return creds, nil // no S3 server (--s3 ""): no bucket
	}
	creds["s3_url"], creds["s3_bucket"] = url, DemoBucket
	client := s3.New(s3.Options{
		BaseEndpoint: aws.String(url),
		Region:       a.s3Region(),
		Credentials:  credentials.NewStaticCredentialsProvider(keys[0].AccessKey, keys[0].Secret, ""),
		UsePathStyle: true,
	})
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(DemoBucket)}); err != nil {
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "BucketAlreadyOwnedByYou" {
			return nil, fmt.Errorf("demo bucket: %w", err)
		}
	}
	for key, body := range demoObjects {
		if _, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(DemoBucket), Key: aws.String(key)}); err == nil {
			continue
		}
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(DemoBucket), Key: aws.String(key),
			Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body)))}); err != nil {
			return nil, fmt.Errorf("demo object %s: %w", key, err)
		}
	}
	return creds, nil
}
