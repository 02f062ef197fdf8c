package s3gw

import (
	"errors"
	"reflect"
	"time"
	"unsafe"

	"github.com/gofiber/fiber/v3"
	"github.com/valyala/fasthttp"
	"github.com/versity/versitygw/s3api"
)

// Default connection timeouts of the S3 listener.
const (
	// DefaultHeaderTimeout bounds a new connection's wait for a request
	// header, from the accept to its last byte.
	DefaultHeaderTimeout = 10 * time.Second
	// DefaultIdleTimeout bounds a kept-alive connection's wait for the
	// next request.
	DefaultIdleTimeout = 60 * time.Second
)

// noBodyLimit stands for "no limit" on reading a body: fasthttp only lets a
// request replace the header deadline with a longer one.
const noBodyLimit = 100 * 365 * 24 * time.Hour

// Timeouts are the S3 listener's connection timeouts.
type Timeouts struct {
	Header, Idle time.Duration
	// Body bounds reading one request's body after its header (0: no
	// bound: a 5 GB part on a slow link may take hours).
	Body time.Duration
}

func (t Timeouts) withDefaults() Timeouts {
	if t.Header <= 0 {
		t.Header = DefaultHeaderTimeout
	}
	if t.Idle <= 0 {
		t.Idle = DefaultIdleTimeout
	}
	if t.Body <= 0 {
		t.Body = noBodyLimit
	}
	return t
}

// setTimeouts gives versitygw's fasthttp server its timeouts: versitygw
// sets none (a client could hold thousands of connections open by sending
// nothing) and exposes neither its fiber app nor its server, so the app is
// read from the S3ApiServer's field, once, before it serves. A versitygw
// that renames the field fails here, at start, not silently.
func setTimeouts(srv *s3api.S3ApiServer, t Timeouts) error {
	f := reflect.ValueOf(srv).Elem().FieldByName("app")
	if !f.IsValid() || f.Type() != reflect.TypeFor[*fiber.App]() {
		return errors.New("s3gw: versitygw's server has no fiber app to set timeouts on")
	}
	app := *(**fiber.App)(unsafe.Pointer(f.UnsafeAddr()))
	if app == nil || app.Server() == nil {
		return errors.New("s3gw: versitygw's fiber app has no server")
	}
	hs := app.Server()
	// ReadTimeout covers the wait for the first byte and the header; once
	// the header is in, the body gets its own deadline.
	hs.ReadTimeout, hs.IdleTimeout = t.Header, t.Idle
	body := t.Body
	hs.HeaderReceived = func(*fasthttp.RequestHeader) fasthttp.RequestConfig {
		return fasthttp.RequestConfig{ReadTimeout: body}
	}
	return nil
}
