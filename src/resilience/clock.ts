/** Milliseconds since the epoch. Passed in, so policies that depend on time run under a fake clock in tests. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();
