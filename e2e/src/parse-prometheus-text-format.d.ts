/** Types of `parse-prometheus-text-format`, which ships none. */
declare module 'parse-prometheus-text-format' {
  /** One sample: its value (as text) and labels; histograms and summaries carry buckets or quantiles. */
  export interface ParsedSample {
    readonly value?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly buckets?: Readonly<Record<string, string>>;
    readonly quantiles?: Readonly<Record<string, string>>;
    readonly count?: string;
    readonly sum?: string;
  }
  /** One metric family of a Prometheus text exposition. */
  export interface ParsedFamily {
    readonly name: string;
    readonly help: string;
    readonly type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
    readonly metrics: readonly ParsedSample[];
  }
  /** Parses the text format; throws on a malformed exposition. */
  export default function parsePrometheusTextFormat(text: string): ParsedFamily[];
}
