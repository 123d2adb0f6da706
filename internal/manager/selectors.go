package manager

import (
	"k8s.io/apimachinery/pkg/labels"

	"github.com/jetway-dev/jetway/internal/domain"
)

func tombstoneSelector() labels.Selector {
	return labels.SelectorFromSet(labels.Set{domain.LabelTombstone: "true"})
}
