// Package tensor defines DType, Shape and Tensor, the typed views that the
// engine and its operators pass around. It owns no memory policy: tensors
// view slices that the engine's arena or the caller provides. It imports
// nothing else of edgerun.
package tensor
