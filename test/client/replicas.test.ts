import { describe, expect, it } from 'vitest';
import { Replicas } from '../../src/client/replicas.js';

const urls = ['http://a', 'http://b', 'http://c'];

describe('replica order', () => {
  it('starts each call on the next replica in turn', () => {
    const replicas = new Replicas(urls, () => 0.5);
    expect([replicas.order(0), replicas.order(0), replicas.order(0), replicas.order(0)]).toEqual([
      [0, 1, 2],
      [1, 2, 0],
      [2, 0, 1],
      [0, 1, 2],
    ]);
  });

  it('tries a replica that just failed last, until its cool-down is over, and forgets it on success', () => {
    const replicas = new Replicas(urls, () => 0.5);
    replicas.failed(0, 0); // cools down for 750 ms (1 s, jittered)
    // Turns start at 0, 1, 2, 0, 1, 2: the failed replica goes to the back while it cools down.
    expect(replicas.order(0)).toEqual([1, 2, 0]);
    expect(replicas.order(749)).toEqual([1, 2, 0]);
    expect(replicas.order(750)).toEqual([2, 0, 1]);
    replicas.failed(0, 1000);
    replicas.failed(0, 1000); // second failure in a row: 1.5 s
    expect(replicas.order(2499)).toEqual([1, 2, 0]);
    replicas.succeeded(0);
    expect(replicas.order(1000)).toEqual([1, 2, 0]);
    expect(replicas.order(1000)).toEqual([2, 0, 1]);
  });

  it('when every replica failed, tries first the one that cools down first', () => {
    const replicas = new Replicas(urls, () => 0.5);
    replicas.failed(2, 0);
    replicas.failed(0, 100);
    replicas.failed(1, 200);
    expect(replicas.order(300)).toEqual([2, 0, 1]);
  });
});
