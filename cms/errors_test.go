package cms_test

import (
	"errors"

	"github.com/inkflow/inkflow/engine"
)

func asError(err error, target **engine.Error) bool { return errors.As(err, target) }
