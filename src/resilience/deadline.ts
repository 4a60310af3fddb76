/**
 * Every request has one deadline that bounds its store and KMS calls together. It is an
 * AbortSignal: the AWS SDK stops a call when it fires, and `abortable` stops waiting at
 * once even where a library would only notice at its next step (a retry's backoff).
 */

/** A signal that aborts after `ms` milliseconds (a timer that does not keep the process alive). */
export function deadlineAfter(ms: number): AbortSignal {
  return AbortSignal.timeout(ms);
}

/** Rejects with the signal's reason as soon as it aborts; otherwise settles as `work` does. */
export function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(abortError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      reject(abortError(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** The deadline passed (as opposed to a call we cancelled because another answered first). */
export function isDeadline(signal: AbortSignal | undefined): boolean {
  return (signal?.reason as { name?: string } | undefined)?.name === 'TimeoutError';
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  const error = new Error(isDeadline(signal) ? 'the request deadline passed' : 'cancelled', {
    cause: reason,
  });
  error.name = 'AbortError';
  return error;
}
