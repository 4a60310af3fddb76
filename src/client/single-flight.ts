/**
 * Concurrent calls for the same id share one request: a burst of reads of a new id
 * costs one round trip, not one per caller.
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

  get size(): number {
    return this.inflight.size;
  }
}
