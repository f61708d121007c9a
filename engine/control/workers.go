package control

import (
	"context"
	"fmt"
	"time"

	"github.com/wsgideck/wsgideck/engine/appserver"
)

// Worker commands: uWSGI's per-worker and master operations, delegated to
// the engine. Each needs a running engine (else ErrNotRunning, wrapped).

// Supports reports which worker commands the engine implements.
func (r *Runner) Supports() Capabilities {
	return Capabilities{ReloadWorker: true, KillWorker: true, ChainReload: true, AddRemoveWorker: true}
}

func (r *Runner) engineRun() (*engineRun, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.eng == nil {
		return nil, fmt.Errorf("%s: the engine is %w", r.opts.Name, ErrNotRunning)
	}
	return r.eng, nil
}

// ReloadWorker replaces worker id gracefully: a new process starts, and
// the old one finishes the requests in hand once the new one is ready,
// then exits.
func (r *Runner) ReloadWorker(ctx context.Context, id int) error {
	run, err := r.engineRun()
	if err != nil {
		return err
	}
	if err := run.srv.RecycleWorker(id); err != nil {
		return fmt.Errorf("reload worker %d: %w", id, err)
	}
	r.addLog(LogLine{Source: LogEngine, Worker: id, Text: fmt.Sprintf("wsgideck: reloading worker %d on request", id)})
	return nil
}

// KillWorker kills worker id's process (SIGKILL); the master respawns it.
func (r *Runner) KillWorker(ctx context.Context, id int) error {
	run, err := r.engineRun()
	if err != nil {
		return err
	}
	if err := run.srv.KillWorker(id); err != nil {
		return fmt.Errorf("kill worker %d: %w", id, err)
	}
	r.addLog(LogLine{Source: LogEngine, Worker: id, Level: LevelWarn, Text: fmt.Sprintf("wsgideck: killed worker %d on request", id)})
	return nil
}

// ChainReload replaces the workers one at a time, each only once the
// previous replacement is ready (uWSGI's chain reload), with the running
// configuration. It returns when the last worker is replaced, or when ctx
// ends (the chain then carries on).
func (r *Runner) ChainReload(ctx context.Context) error {
	if err := r.lock(ctx); err != nil {
		return err
	}
	defer r.unlock()
	run, err := r.engineRun()
	if err != nil {
		return err
	}
	run.commanded.Store(true)
	defer run.commanded.Store(false)
	r.emit(Event{Kind: EventReloadStarted, Tier: Engine, Message: "chain reload"})
	if err := run.srv.ReloadWith(appserver.ReloadChain, nil); err != nil {
		r.emit(Event{Kind: EventReloadFailed, Tier: Engine, Message: err.Error()})
		return fmt.Errorf("chain reload: %w", err)
	}
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for run.srv.Snapshot().Reload != nil {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-run.ctx.Done():
			return fmt.Errorf("chain reload: the engine stopped: %w", ErrNotRunning)
		case <-t.C:
		}
	}
	r.emit(Event{Kind: EventReloadDone, Tier: Engine, Message: "chain reload"})
	return nil
}

// AddWorker starts one more worker (a cheap one comes back first) and
// returns its number.
func (r *Runner) AddWorker(ctx context.Context) (int, error) {
	run, err := r.engineRun()
	if err != nil {
		return 0, err
	}
	id, err := run.srv.AddWorker()
	if err != nil {
		return 0, fmt.Errorf("add a worker: %w", err)
	}
	r.addLog(LogLine{Source: LogEngine, Worker: id, Text: fmt.Sprintf("wsgideck: added worker %d on request", id)})
	return id, nil
}

// RemoveWorker stops the highest-numbered running worker gracefully (one
// always stays) and returns its number.
func (r *Runner) RemoveWorker(ctx context.Context) (int, error) {
	run, err := r.engineRun()
	if err != nil {
		return 0, err
	}
	id, err := run.srv.RemoveWorker()
	if err != nil {
		return 0, fmt.Errorf("remove a worker: %w", err)
	}
	r.addLog(LogLine{Source: LogEngine, Worker: id, Text: fmt.Sprintf("wsgideck: removed worker %d on request", id)})
	return id, nil
}
