import closeWithGrace from 'close-with-grace';
import type { Logger } from 'pino';

/**
 * SIGTERM or SIGINT runs `stop` and exits 0 once it is done; a second signal, an uncaught
 * error or a stop still running `boundMs` later exits at once with 1. SIGHUP is left to the
 * caller (certificate reloads). Install it before printing the banner: whoever reads the
 * banner may signal at once, and an unhandled SIGINT kills the process outright.
 */
export function stopOnSignals(stop: () => Promise<void>, boundMs: number, logger: Logger): void {
  closeWithGrace(
    {
      delay: boundMs,
      skip: ['SIGHUP'],
      logger: {
        error: (message: string) => {
          logger.error(message);
        },
      },
    },
    async ({ signal, err }) => {
      if (err) logger.error({ err }, 'stopping after an unexpected error');
      else logger.info({ signal }, 'shutting down');
      await stop();
      logger.info('stopped');
    },
  );
}
