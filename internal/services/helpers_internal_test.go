package services

import (
	"errors"
	"fmt"

	"github.com/trellis-cloud/trellis/internal/errs"
)

func asErr(err error, target **errs.Error) bool { return errors.As(err, target) }

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
