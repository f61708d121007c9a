package assets

import _ "embed"

// WorkerPy is the Python worker program the engine runs in each worker
// process (engine/workerproto documents the protocol it speaks).
//
//go:embed worker.py
var WorkerPy []byte
