package machines

import (
	"testing"

	"github.com/jetway-dev/jetway/internal/dev/flysim/internal/flysimtest"
)

func TestMain(m *testing.M) { flysimtest.Main(m) }
