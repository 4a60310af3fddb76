/**
 * Where this replica is in its life: readiness says "send me traffic" only while it
 * is `serving`, and a draining replica tells its clients to reconnect elsewhere.
 */
export type Phase = 'starting' | 'serving' | 'draining';

export class Lifecycle {
  private current: Phase = 'starting';

  get phase(): Phase {
    return this.current;
  }

  serving(): void {
    this.current = 'serving';
  }

  draining(): void {
    this.current = 'draining';
  }
}
