/**
 * A small Prometheus text-format registry: gauges, counters and fixed-bucket
 * histograms. Enough for `/metrics` without a dependency.
 */
type Labels = Record<string, string>;

const labelText = (l: Labels): string => {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
};

interface Metric {
  help: string;
  type: 'gauge' | 'counter' | 'histogram';
  render(name: string): string[];
}

export class Metrics {
  private readonly metrics = new Map<string, Metric>();

  gauge(name: string, help: string): { set(v: number, labels?: Labels): void } {
    const values = new Map<string, number>();
    this.metrics.set(name, {
      help,
      type: 'gauge',
      render: (n) => [...values].map(([l, v]) => `${n}${l} ${v}`),
    });
    return { set: (v, labels = {}) => values.set(labelText(labels), v) };
  }

  counter(name: string, help: string): { inc(by?: number, labels?: Labels): void } {
    const values = new Map<string, number>();
    this.metrics.set(name, {
      help,
      type: 'counter',
      render: (n) => [...values].map(([l, v]) => `${n}${l} ${v}`),
    });
    return {
      inc: (by = 1, labels = {}) => values.set(labelText(labels), (values.get(labelText(labels)) ?? 0) + by),
    };
  }

  histogram(name: string, help: string, buckets: number[]): { observe(v: number): void } {
    const counts = buckets.map(() => 0);
    let sum = 0;
    let count = 0;
    this.metrics.set(name, {
      help,
      type: 'histogram',
      render: (n) => [
        ...buckets.map((b, i) => `${n}_bucket{le="${b}"} ${counts[i]}`),
        `${n}_bucket{le="+Inf"} ${count}`,
        `${n}_sum ${sum}`,
        `${n}_count ${count}`,
      ],
    });
    return {
      observe: (v) => {
        sum += v;
        count++;
        buckets.forEach((b, i) => {
          if (v <= b) counts[i] = (counts[i] ?? 0) + 1;
        });
      },
    };
  }

  render(): string {
    const lines: string[] = [];
    for (const [name, m] of this.metrics) {
      lines.push(`# HELP ${name} ${m.help}`, `# TYPE ${name} ${m.type}`, ...m.render(name));
    }
    return `${lines.join('\n')}\n`;
  }
}
