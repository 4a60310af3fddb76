import { setFlagsFromString } from 'node:v8';

/**
 * Turns off V8's allocation-site pretenuring in the server process. V8 watches where
 * objects are allocated and, once enough of a site's objects survive a young-generation
 * collection, allocates that site's objects straight in the old generation. Some replicas
 * (about four in ten, at random, in the bench) had that decision made for ordinary
 * per-request objects: those objects then die in the old generation, keep what they point
 * to alive through every young collection, and the replica stays for good in a state where
 * each young collection copies ten times as much and the old generation is collected every
 * few hundred milliseconds, serving cached reads at about 40% more CPU each. With
 * pretenuring off, no replica did (bench/README.md, "Garbage collection").
 *
 * NODE_OPTIONS does not accept this V8 flag, so it is set here, before the server starts;
 * V8 reads it at each collection, so setting it at run time takes effect.
 */
export function avoidPretenuring(): void {
  setFlagsFromString('--no-allocation-site-pretenuring');
}
