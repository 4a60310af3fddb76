import { recordKey } from './audit.js';

export interface RecordingFetch {
  fetch: typeof fetch;
  /** URLs of every request the client sent, in order. */
  urls: string[];
}

/**
 * The global fetch, recording every key that crosses the wire for the log audit, and
 * every URL the client tried.
 */
export function recordingFetch(): RecordingFetch {
  const urls: string[] = [];
  return {
    urls,
    fetch: async (input, init) => {
      urls.push(input instanceof Request ? input.url : String(input));
      const response = await fetch(input, init);
      const text = await response.clone().text();
      const key = /"key":"([^"]+)"/.exec(text)?.[1];
      if (key) recordKey(key);
      return response;
    },
  };
}
