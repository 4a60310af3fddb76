import type { Logger } from 'pino';
import type { KeyService } from './service.js';

export interface Sweeper {
  stop(): void;
}

/**
 * Destroys keys past their deletion date every `intervalMs`, so a key nobody asks
 * for again is still destroyed on time. 0 leaves it to access and `rkms sweep`.
 * Every replica may sweep: purges are conditional, so sweeps never collide.
 */
export function startSweeper(keys: KeyService, intervalMs: number, logger?: Logger): Sweeper | undefined {
  if (intervalMs <= 0) return undefined;
  let running = false;
  const timer = setInterval(() => {
    if (running) return; // a slow sweep over a large table is not started twice
    running = true;
    keys
      .sweep()
      .then(
        (purged) => logger?.info({ purged: purged.length }, 'sweep done'),
        (err: unknown) => logger?.warn({ err }, 'sweep failed; the next one retries'),
      )
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
    },
  };
}
