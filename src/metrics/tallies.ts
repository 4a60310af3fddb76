import type { Metric, Registry } from 'prom-client';

type Labels = Record<string, string | number>;
/** What prom-client's registry reads `type` as (its typings say an enum; it writes the string). */
type MetricType = 'counter' | 'histogram';

interface Exported {
  name: string;
  help: string;
  type: MetricType;
  aggregator: 'sum';
  values: { labels: Labels; value: number; metricName?: string }[];
}

/**
 * A counter or histogram updated on every cached read (the HTTP metrics, the cache
 * lookups). prom-client's own check, order and hash their labels on every update; a tally
 * is found once per label set and then updated in place. prom-client's registry
 * still formats them with every other metric, from `get()`.
 */
abstract class Tallies<T> {
  readonly aggregator = 'sum' as const;
  protected readonly tallies = new Map<string, { labels: Labels; tally: T }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  /** The tally of one label set, made on first use: keep it, and update it directly. */
  protected tallyOf(labels: Labels, make: () => T): T {
    const key = Object.values(labels).join('\u0000');
    let entry = this.tallies.get(key);
    if (!entry) {
      entry = { labels, tally: make() };
      this.tallies.set(key, entry);
    }
    return entry.tally;
  }

  abstract get(): Promise<Exported>;
}

export interface CountTally {
  value: number;
}

/** A Prometheus counter. */
export class CounterTallies extends Tallies<CountTally> {
  constructor(name: string, help: string, registry: Registry) {
    super(name, help, 'counter', registry);
  }

  of(labels: Labels): CountTally {
    return this.tallyOf(labels, () => ({ value: 0 }));
  }

  get(): Promise<Exported> {
    const values = [...this.tallies.values()].map(({ labels, tally }) => ({ labels, value: tally.value }));
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: 'sum', values });
  }
}

/** One label set's observations: a count per bucket (not cumulative), their sum and count. */
export class HistogramTally {
  readonly buckets: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.buckets = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    const { bounds, buckets } = this;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= (bounds[i] ?? Infinity)) {
        buckets[i] = (buckets[i] ?? 0) + 1;
        break;
      }
    }
    this.sum += value;
    this.count += 1;
  }
}

/** A Prometheus histogram, exported as prom-client exports one (`le` first, then the labels). */
export class HistogramTallies extends Tallies<HistogramTally> {
  constructor(
    name: string,
    help: string,
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    super(name, help, 'histogram', registry);
  }

  of(labels: Labels): HistogramTally {
    return this.tallyOf(labels, () => new HistogramTally(this.bounds));
  }

  get(): Promise<Exported> {
    const values: Exported['values'] = [];
    for (const { labels, tally } of this.tallies.values()) {
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += tally.buckets[i] ?? 0;
        values.push({
          labels: { le: bound, ...labels },
          value: cumulative,
          metricName: `${this.name}_bucket`,
        });
      });
      values.push(
        { labels: { le: '+Inf', ...labels }, value: tally.count, metricName: `${this.name}_bucket` },
        { labels, value: tally.sum, metricName: `${this.name}_sum` },
        { labels, value: tally.count, metricName: `${this.name}_count` },
      );
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: 'sum', values });
  }
}
