import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CounterTallies, HistogramTallies } from '../../src/metrics/tallies.js';

const BOUNDS = [0.001, 0.01, 0.1, 1];

describe('tallies', () => {
  it('are exported exactly as prom-client exports its own counter and histogram', async () => {
    const theirs = new Registry();
    const counter = new Counter({
      name: 'c_total',
      help: 'a counter',
      labelNames: ['route', 'status'],
      registers: [theirs],
    });
    const histogram = new Histogram({
      name: 'h_seconds',
      help: 'a histogram',
      labelNames: ['route', 'method'],
      buckets: BOUNDS,
      registers: [theirs],
    });
    const ours = new Registry();
    const counts = new CounterTallies('c_total', 'a counter', ours);
    const durations = new HistogramTallies('h_seconds', 'a histogram', BOUNDS, ours);

    const seen: [string, number, number][] = [
      ['/key', 200, 0.0004],
      ['/key', 200, 0.001],
      ['/key', 404, 0.05],
      ['/health', 200, 3],
      ['/key', 200, 0.2],
    ];
    for (const [route, status, seconds] of seen) {
      counter.inc({ route, status });
      histogram.observe({ route, method: 'GET' }, seconds);
      counts.of({ route, status }).value += 1;
      durations.of({ route, method: 'GET' }).observe(seconds);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain('h_seconds_bucket{le="0.001",route="/key",method="GET"} 2');
  });

  it('hands out one tally per label set', () => {
    const counts = new CounterTallies('c_total', 'a counter', new Registry());
    expect(counts.of({ route: '/key', status: 200 })).toBe(counts.of({ route: '/key', status: 200 }));
    expect(counts.of({ route: '/key', status: 200 })).not.toBe(counts.of({ route: '/key', status: 404 }));
  });
});
