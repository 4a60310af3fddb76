/**
 * Concurrent calls for the same id share one in-flight operation, so a burst of
 * requests for a new id costs one store read and one KMS call, not one per request.
 */
export class SingleFlight<T> {
  private readonly inflight = new Map<string, { promise: Promise<T>; forgotten: boolean }>();

  /** `current()` tells the operation, when it ends, whether `forget(id)` was called since it started. */
  run(id: string, operation: (current: () => boolean) => Promise<T>): Promise<T> {
    const running = this.inflight.get(id);
    if (running) return running.promise;
    const entry = { promise: Promise.resolve() as Promise<T>, forgotten: false };
    entry.promise = operation(() => !entry.forgotten).finally(() => {
      if (this.inflight.get(id) === entry) this.inflight.delete(id);
    });
    this.inflight.set(id, entry);
    return entry.promise;
  }

  /** Whether a call for the id is running now: a `run` would join it. */
  has(id: string): boolean {
    return this.inflight.has(id);
  }

  /** What is running for the id is stale: later calls start afresh, and it is told so. */
  forget(id: string): void {
    const entry = this.inflight.get(id);
    if (!entry) return;
    entry.forgotten = true;
    this.inflight.delete(id);
  }
}
