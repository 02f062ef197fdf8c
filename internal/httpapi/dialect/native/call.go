package native

import (
	"context"
	"encoding/base64"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/authn"
	"github.com/trellis-cloud/trellis/internal/httpapi/wire"
	"github.com/trellis-cloud/trellis/internal/ids"
)

// output is a response with a JSON body.
type output[B any] struct{ Body B }

// idParam is the {id} of a path.
type idParam struct {
	ID string `path:"id" format:"uuid" doc:"The object's id."`
}

// caller returns the authenticated actor. authn.Middleware puts one on every
// operation route; its absence must not fall through to a zero actor, whose
// empty scope would match every path.
func caller(ctx context.Context) (actor.Actor, error) {
	if a, ok := authn.ActorFrom(ctx); ok {
		return a, nil
	}
	return actor.Actor{}, errs.New(errs.KindUnauthenticated, "missing API key")
}

// call runs one service call as the caller and shapes its result with out,
// or turns its error into a problem.
func call[T, B any](ctx context.Context, s *server, fn func(actor.Actor) (T, error), out func(T) B) (*output[B], error) {
	a, err := caller(ctx)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	v, err := fn(a)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &output[B]{Body: out(v)}, nil
}

// exec runs one service call that returns nothing (204).
func exec(ctx context.Context, s *server, fn func(actor.Actor) error) (*struct{}, error) {
	a, err := caller(ctx)
	if err == nil {
		err = fn(a)
	}
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	return &struct{}{}, nil
}

// ---- cursor pagination ----

// pageParams are the query parameters of a paginated list.
type pageParams struct {
	Cursor string `query:"cursor" maxLength:"100" doc:"The nextCursor of the previous page; omit for the first page."`
	Limit  int    `query:"limit" minimum:"1" maximum:"1000" default:"100" doc:"The page size."`
}

// after decodes the cursor into the id the next page starts after.
func (p pageParams) after() (string, error) {
	if p.Cursor == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(p.Cursor)
	if err != nil || !ids.Valid(string(b)) {
		return "", errs.Invalid("cursor", "is not a cursor returned by this API")
	}
	return string(b), nil
}

// list is one page of a list. Ids are time-ordered, so the cursor is the
// last id of the page, opaque to clients.
type list[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"nextCursor,omitempty" doc:"Pass as cursor to get the next page; absent on the last page."`
}

// paged lists one page with fn (which gets the decoded cursor and the
// limit), then shapes it with out. A full page gets a next cursor; the page
// after it may be empty.
func paged[T, B any](ctx context.Context, s *server, p pageParams, fn func(a actor.Actor, after string, limit int) ([]T, error),
	idOf func(T) string, out func(T) B) (*output[list[B]], error) {
	return call(ctx, s, func(a actor.Actor) ([]T, error) {
		after, err := p.after()
		if err != nil {
			return nil, err
		}
		return fn(a, after, p.Limit)
	}, func(items []T) list[B] {
		l := list[B]{Items: wire.Map(items, out)}
		if len(items) > 0 && len(items) == p.Limit {
			l.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(idOf(items[len(items)-1])))
		}
		return l
	})
}
