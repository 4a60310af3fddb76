import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Waits until `condition` holds, looking every `intervalMs`: how a test waits for what a busy
 * machine may be slow to do. The bound is generous; past it, the test fails naming `what`.
 */
export async function until(
  what: string,
  condition: () => boolean | Promise<boolean>,
  { timeoutMs = 20_000, intervalMs = 20 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(intervalMs);
  }
}
