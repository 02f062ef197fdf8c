package s3gw

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/versity/versitygw/s3err"

	"github.com/trellis-cloud/trellis/internal/errs"
)

// codeOf is the S3 error code of err ("" for other errors).
func codeOf(err error) string {
	var se s3err.S3Error
	if errors.As(err, &se) {
		return se.BaseError().Code
	}
	return ""
}

func apiError(code string, status int, msg string) s3err.APIError {
	return s3err.APIError{Code: code, Description: msg, HTTPStatusCode: status}
}

// accessDenied is S3's AccessDenied with why.
func accessDenied(why string) s3err.APIError {
	return apiError("AccessDenied", http.StatusForbidden, why)
}

// s3Error turns an error of the accounting (errs kinds) into the S3 error
// versitygw answers with; versitygw recognises only s3err values, anything
// else is a bare 500. Internal errors are logged here, with the operation.
func s3Error(log *slog.Logger, op, bucket string, err error) error {
	if err == nil {
		return nil
	}
	var se s3err.S3Error
	if errors.As(err, &se) {
		return se
	}
	switch errs.KindOf(err) {
	case errs.KindQuotaExceeded:
		msg := errs.Public(err)
		if msg == "" {
			msg = s3err.GetAPIError(s3err.ErrQuotaExceeded).Description
		}
		return apiError("QuotaExceeded", http.StatusForbidden, msg)
	case errs.KindForbidden:
		return accessDenied(errs.Public(err))
	case errs.KindNotFound:
		return s3err.GetBucketErr(s3err.ErrNoSuchBucket, bucket)
	case errs.KindConflict:
		if errs.FieldOf(err) == "owned" {
			return s3err.GetBucketErr(s3err.ErrBucketAlreadyOwnedByYou, bucket)
		}
		return s3err.GetBucketErr(s3err.ErrBucketAlreadyExists, bucket)
	case errs.KindInvalid:
		if errs.FieldOf(err) == "name" {
			return s3err.GetBucketErr(s3err.ErrInvalidBucketName, bucket)
		}
		return apiError("InvalidArgument", http.StatusBadRequest, errs.Public(err))
	case errs.KindPrecondition:
		return apiError("PreconditionFailed", http.StatusPreconditionFailed, errs.Public(err))
	case errs.KindUnavailable, errs.KindRateLimited:
		log.Warn("s3: accounting unavailable", "op", op, "bucket", bucket, "err", err)
		return apiError("ServiceUnavailable", http.StatusServiceUnavailable, "Please reduce your request rate or try again.")
	}
	log.Error("s3: accounting failed", "op", op, "bucket", bucket, "err", err)
	return s3err.GetAPIError(s3err.ErrInternalError)
}

// providerError turns an S3 error of the data plane into an error of a
// kind, for the bucket API (buckets.Provider's callers speak errs).
func providerError(bucket string, err error) error {
	if err == nil {
		return nil
	}
	switch codeOf(err) {
	case "":
		return errs.Wrap(errs.KindInternal, err, "object storage failure")
	case "NoSuchBucket":
		return errs.NotFound("bucket")
	case "BucketNotEmpty":
		return &errs.Error{Kind: errs.KindPrecondition, Field: "name", Msg: "bucket " + bucket + " is not empty"}
	case "BucketAlreadyExists", "BucketAlreadyOwnedByYou":
		return &errs.Error{Kind: errs.KindConflict, Field: "name", Msg: "bucket names must be globally unique: " + bucket + " is taken"}
	case "InvalidBucketName":
		return errs.Invalid("name", "is not a valid bucket name")
	case "ServiceUnavailable", "SlowDown":
		return errs.Wrap(errs.KindUnavailable, err, "object storage is busy; try again")
	}
	return errs.Wrap(errs.KindInternal, err, "object storage failure")
}

// lockError answers a write whose lock another node held past the wait
// with SlowDown (503): S3 clients retry it.
func (s *store) lockError(op, bucket string, err error) error {
	if errs.KindOf(err) == errs.KindUnavailable {
		s.log.Warn("s3: lock busy", "op", op, "bucket", bucket, "err", err)
		return apiError("SlowDown", http.StatusServiceUnavailable,
			"Another node is writing the same object; please reduce your request rate and retry.")
	}
	return s3Error(s.log, op, bucket, err)
}
