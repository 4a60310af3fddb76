/** What a retry spends: a timed-out attempt held a connection for long, so its retry costs more. */
export const RETRY_COST = 5;
export const TIMEOUT_RETRY_COST = 10;
const CAPACITY = 500;
const SUCCESS_REFILL = 1;

/**
 * Retries spend from a capacity that successes refill, as the AWS SDK's standard retry
 * strategy does: while RKMS mostly answers, retries are free to happen; when it mostly
 * fails, the client stops multiplying its load by retrying every call.
 */
export class RetryBudget {
  private tokens = CAPACITY;

  /** Takes `cost` for one retry; false (and takes nothing) when the budget cannot pay it. */
  trySpend(cost: number): boolean {
    if (this.tokens < cost) return false;
    this.tokens -= cost;
    return true;
  }

  succeeded(): void {
    this.tokens = Math.min(CAPACITY, this.tokens + SUCCESS_REFILL);
  }

  get available(): number {
    return this.tokens;
  }
}
