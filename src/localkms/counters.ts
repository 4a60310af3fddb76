/** Calls received, by region then operation name: `{"us-east-1": {"Decrypt": 3}}`. */
export type CallCounters = Record<string, Record<string, number>>;

/**
 * Counts every call a client sent, including the ones a fault then failed or
 * dropped, so a test sees what the client did, not what succeeded.
 */
export class CallCounter {
  private counts = new Map<string, Map<string, number>>();

  record(region: string, operation: string): void {
    let byOperation = this.counts.get(region);
    if (!byOperation) {
      byOperation = new Map();
      this.counts.set(region, byOperation);
    }
    byOperation.set(operation, (byOperation.get(operation) ?? 0) + 1);
  }

  snapshot(): CallCounters {
    return Object.fromEntries(
      [...this.counts].map(([region, byOperation]) => [region, Object.fromEntries(byOperation)]),
    );
  }

  reset(): void {
    this.counts = new Map();
  }
}
