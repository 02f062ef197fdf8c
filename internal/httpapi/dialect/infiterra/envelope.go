package infiterra

import (
	"errors"
	"net/http"

	"github.com/trellis-cloud/trellis/internal/bss"
	"github.com/trellis-cloud/trellis/internal/errs"
)

// The envelope of the account, subscription and add-on calls (reference
// §2), with the SDK's property names: {"Code","Message","Result"}. Code 0 is
// success, 1 an account that exists (accounts/exists), -1 a refusal, which
// the contract answers with HTTP 200.

// MessageUnavailable answers a call the database could not serve in time
// (503 with Retry-After; nothing changed, the BSS may retry).
const MessageUnavailable = "The service is busy; try again."

// resultDefinition is the envelope (accounts/exists, accounts/delete).
type resultDefinition struct {
	Code       int        `json:"Code"`
	Message    string     `json:"Message"`
	Result     NullString `json:"Result"`
	ResultUser NullString `json:"ResultUser,omitempty"`
}

// accountResultDefinition answers accounts/synchronize.
type accountResultDefinition struct {
	resultDefinition
	AccountExtraInfo  map[string]string `json:"AccountExtraInfo"`
	GeneratedPassword NullString        `json:"GeneratedPassword"`
}

// serviceResultDefinition answers subscriptions/* and addons/*.
type serviceResultDefinition struct {
	resultDefinition
	CustomFieldValues map[string]string `json:"CustomFieldValues"`
	AccountExtraInfo  map[string]string `json:"AccountExtraInfo"`
	SendNotification  bool              `json:"SendNotification"`
	ExtraInfo         map[string]string `json:"ExtraInfo"`
}

func plainResult(r resultDefinition, _ bss.Outcome) resultDefinition { return r }

func accountResult(r resultDefinition, _ bss.Outcome) accountResultDefinition {
	return accountResultDefinition{resultDefinition: r}
}

func serviceResult(r resultDefinition, out bss.Outcome) serviceResultDefinition {
	return serviceResultDefinition{resultDefinition: r, CustomFieldValues: out.Fields}
}

// answer renders an operation's outcome in the envelope, or its error: a
// refusal (bss.Refusal, or the caller's error by its kind) is 200 with Code
// -1, its message and the object it is about; a wait the database gave up
// on is 503; a failure of ours is Web API's 500, in the envelope, so that
// the BSS sees a failed call rather than a refusal (its cause is returned
// for the log, never sent).
func answer[T any](out bss.Outcome, err error, render func(resultDefinition, bss.Outcome) T) (any, int, error) {
	if err == nil {
		r := resultDefinition{Message: out.Message, Result: NullString(out.ID)}
		if out.Exists {
			r.Code, r.ResultUser = 1, NullString(out.Email)
		}
		return render(r, out), http.StatusOK, nil
	}
	refused := resultDefinition{Code: -1, Message: errs.Public(err), Result: NullString(bss.ObjectOf(err))}
	var ref *bss.Refusal
	if errors.As(err, &ref) {
		return render(refused, bss.Outcome{}), http.StatusOK, nil
	}
	switch errs.KindOf(err) {
	case errs.KindInvalid, errs.KindNotFound, errs.KindConflict, errs.KindPrecondition, errs.KindForbidden,
		errs.KindCapacityExceeded, errs.KindQuotaExceeded:
		return render(refused, bss.Outcome{}), http.StatusOK, nil
	case errs.KindUnavailable:
		return resultDefinition{Code: -1, Message: MessageUnavailable}, http.StatusServiceUnavailable, err
	}
	return internalError(), http.StatusInternalServerError, err
}

func invalidBody() resultDefinition {
	return resultDefinition{Code: -1, Message: MessageInvalidBody}
}

func internalError() resultDefinition {
	return resultDefinition{Code: -1, Message: MessageInternal}
}

// outcome gives the log attributes of an enveloped answer.
func outcome(v any) []any {
	var r resultDefinition
	switch x := v.(type) {
	case resultDefinition:
		r = x
	case accountResultDefinition:
		r = x.resultDefinition
	case serviceResultDefinition:
		r = x.resultDefinition
	default:
		return nil
	}
	return []any{"code", r.Code, "message", r.Message, "result", string(r.Result)}
}
