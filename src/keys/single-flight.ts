/**
 * Concurrent calls for the same id share one in-flight operation, so a burst of
 * requests for a new id costs one store read and one KMS call, not one per request.
 */
export class SingleFlight<T> {
  private readonly inflight = new Map<string, Promise<T>>();

  run(id: string, operation: () => Promise<T>): Promise<T> {
    const running = this.inflight.get(id);
    if (running) return running;
    const started = operation().finally(() => {
      if (this.inflight.get(id) === started) this.inflight.delete(id);
    });
    this.inflight.set(id, started);
    return started;
  }

  /** Later calls start afresh instead of joining what is running now. */
  forget(id: string): void {
    this.inflight.delete(id);
  }

  get size(): number {
    return this.inflight.size;
  }
}
