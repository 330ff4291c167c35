import { pino, type DestinationStream, type Logger } from 'pino';
import { SecretRedactor } from './secret-redactor.ts';

export type { Logger } from 'pino';

/** How to build a logger. */
export interface LoggerOptions {
  /** Service or component name, on every line. */
  readonly name: string;
  readonly level?: string;
  /** Values that must never be printed (the configuration's credentials). */
  readonly secrets?: Iterable<string>;
  /** Where lines go; standard output by default. */
  readonly destination?: DestinationStream;
  /**
   * Fields added to every line when it is written (the active span's
   * `trace_id` and `span_id`, from `@tributary/telemetry`).
   */
  readonly mixin?: () => Record<string, unknown>;
}

/**
 * A JSON-lines logger (pino) that never prints a secret: every string in
 * the message and in the merged object — error messages and stacks too —
 * passes through a {@link SecretRedactor} before it is written.
 */
export function createLogger(options: LoggerOptions): Logger {
  const redactor = new SecretRedactor(options.secrets);
  return pino(
    {
      name: options.name,
      level: options.level ?? 'info',
      base: { pid: process.pid },
      ...(options.mixin ? { mixin: options.mixin } : {}),
      // pino's own serializer would print `err` before our formatter sees it;
      // the formatter below turns errors into redacted plain objects instead.
      serializers: { err: (e: unknown) => e },
      formatters: {
        log: (record) => redactor.redactValue(record) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          const redacted = args.map((a) =>
            typeof a === 'string' ? redactor.redactText(a) : a,
          ) as Parameters<typeof method>;
          method.apply(this, redacted);
        },
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
