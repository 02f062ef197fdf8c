package native

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/jobs"
)

// Sandbox is the movable clock of a sandbox instance. Advance moves it to
// `to`, running the periodic billing work at every hour in between, in
// order, and returns how many stops it made.
type Sandbox interface {
	Now() time.Time
	Advance(ctx context.Context, to time.Time) (int, error)
}

type clockState struct {
	Now     time.Time `json:"now" doc:"The instance's current time (UTC)."`
	Sandbox bool      `json:"sandbox" doc:"Whether the clock can be moved (trellis serve --sandbox or --demo)."`
	Stops   int       `json:"stops,omitempty" doc:"After an advance: the instants at which the periodic work ran (every hour passed, and the target)."`
}

type advanceInput struct {
	Body struct {
		Advance string     `json:"advance,omitempty" maxLength:"40" doc:"How far to move, as a Go duration (\"720h\", \"90m\"). Give this or to." example:"720h"`
		To      *time.Time `json:"to,omitempty" doc:"The instant to move to (RFC 3339). Give this or advance."`
	}
}

func (s *server) registerSandbox(api huma.API) {
	register(api, huma.Operation{OperationID: "getClock", Method: http.MethodGet, Path: "/sandbox/clock",
		Summary: "The instance's clock"}, s.getClock)
	register(api, huma.Operation{OperationID: "advanceClock", Method: http.MethodPost, Path: "/sandbox/clock",
		Summary: "Move a sandbox's clock forward",
		Description: "Moves the clock forward and catches the periodic work up hour by hour, in order: usage " +
			"hours close, the month's invoices are issued and auto-paid, dunning restricts accounts whose " +
			"invoices are past due, recurring top-ups run. Only in sandbox mode (--sandbox or --demo), " +
			"provider admins only. Time never moves back."}, s.advanceClock)
}

func (s *server) getClock(ctx context.Context, _ *struct{}) (*output[clockState], error) {
	return call(ctx, s, func(actor.Actor) (clockState, error) {
		return clockState{Now: s.d.Clock.Now().UTC(), Sandbox: s.d.Sandbox != nil}, nil
	}, func(c clockState) clockState { return c })
}

func (s *server) advanceClock(ctx context.Context, in *advanceInput) (*output[clockState], error) {
	return call(ctx, s, func(a actor.Actor) (clockState, error) {
		if err := a.RequireKind(actor.Provider); err != nil {
			return clockState{}, err
		}
		if err := a.Require(actor.Admin); err != nil {
			return clockState{}, err
		}
		if s.d.Sandbox == nil {
			return clockState{}, errs.New(errs.KindPrecondition, "the clock can only be moved in sandbox mode (trellis serve --sandbox or --demo)")
		}
		to, err := jobs.AdvanceRequest{Advance: in.Body.Advance, To: in.Body.To}.Target(s.d.Sandbox.Now())
		if err != nil {
			return clockState{}, err
		}
		stops, err := s.d.Sandbox.Advance(ctx, to)
		if err != nil {
			return clockState{}, err
		}
		return clockState{Now: s.d.Sandbox.Now().UTC(), Sandbox: true, Stops: stops}, nil
	}, func(c clockState) clockState { return c })
}
