package cms_test

import (
	"errors"

	"github.com/inkflow/inkflow/internal/domain"
)

func asError(err error, target **domain.Error) bool { return errors.As(err, target) }
