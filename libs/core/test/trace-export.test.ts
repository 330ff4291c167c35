import { describe, expect, it } from 'vitest';
import {
  type ConfigError,
  type TelemetryConfig,
  type TraceExport,
  captureSettings,
  isConfigError,
  loadCaptureConfig,
  loadWriterConfig,
  pushesMetrics,
  secretValues,
  traceExportOf,
  tracingRequested,
  writerSettings,
} from '../src/index.ts';

const ENDPOINT = 'http://127.0.0.1:4318';
const AZURE =
  'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://x/';

describe('where spans are exported', () => {
  it.each<[string, TelemetryConfig, TraceExport]>([
    ['nothing set: off', {}, 'off'],
    ['an endpoint alone turns OTLP on', { otlpEndpoint: ENDPOINT }, 'otlp'],
    [
      'a traces-only endpoint turns OTLP on',
      { otlpTracesEndpoint: `${ENDPOINT}/v1/traces` },
      'otlp',
    ],
    ['a metrics-only endpoint does not', { otlpMetricsEndpoint: `${ENDPOINT}/v1/metrics` }, 'off'],
    ['OTEL_TRACES_EXPORTER=otlp asks for OTLP', { tracesExporter: 'otlp' }, 'otlp'],
    ['OTEL_TRACES_EXPORTER=console prints spans', { tracesExporter: 'console' }, 'console'],
    [
      'console wins over an endpoint',
      { tracesExporter: 'console', otlpEndpoint: ENDPOINT },
      'console',
    ],
    [
      'an Azure Monitor connection string sends spans to Azure Monitor',
      { azureMonitorConnectionString: AZURE },
      'azure-monitor',
    ],
    [
      'Azure Monitor wins over an OTLP endpoint (which then carries metrics only)',
      { azureMonitorConnectionString: AZURE, otlpEndpoint: ENDPOINT, tracesExporter: 'otlp' },
      'azure-monitor',
    ],
    [
      'OTEL_TRACES_EXPORTER=none wins over an endpoint',
      { tracesExporter: 'none', otlpEndpoint: ENDPOINT },
      'off',
    ],
    [
      'OTEL_TRACES_EXPORTER=none wins over Azure Monitor',
      { tracesExporter: 'none', azureMonitorConnectionString: AZURE },
      'off',
    ],
    [
      'OTEL_SDK_DISABLED wins over everything',
      {
        sdkDisabled: true,
        otlpEndpoint: ENDPOINT,
        tracesExporter: 'otlp',
        azureMonitorConnectionString: AZURE,
      },
      'off',
    ],
    [
      'OTEL_SDK_DISABLED=false leaves the endpoint in charge',
      { sdkDisabled: false, otlpEndpoint: ENDPOINT },
      'otlp',
    ],
  ])('%s', (_what, config, expected) => {
    expect(traceExportOf(config)).toBe(expected);
  });
});

describe('whether metrics are pushed over OTLP', () => {
  it.each<[string, TelemetryConfig, boolean]>([
    [
      'a metrics-only endpoint pushes them',
      { otlpMetricsEndpoint: `${ENDPOINT}/v1/metrics` },
      true,
    ],
    ['a traces-only endpoint does not', { otlpTracesEndpoint: `${ENDPOINT}/v1/traces` }, false],
    ['nothing set: not pushed', {}, false],
    ['an endpoint pushes them', { otlpEndpoint: ENDPOINT }, true],
    ['OTEL_METRICS_EXPORTER=otlp pushes them', { metricsExporter: 'otlp' }, true],
    [
      'OTEL_METRICS_EXPORTER=none keeps them local despite an endpoint',
      { metricsExporter: 'none', otlpEndpoint: ENDPOINT },
      false,
    ],
    [
      'OTEL_SDK_DISABLED keeps them local despite an endpoint',
      { sdkDisabled: true, otlpEndpoint: ENDPOINT, metricsExporter: 'otlp' },
      false,
    ],
    [
      'an Azure Monitor connection string alone does not push them',
      { azureMonitorConnectionString: AZURE },
      false,
    ],
    [
      'OTEL_TRACES_EXPORTER=none does not stop metrics going to the endpoint',
      { tracesExporter: 'none', otlpEndpoint: ENDPOINT },
      true,
    ],
  ])('%s', (_what, config, expected) => {
    expect(pushesMetrics(config)).toBe(expected);
  });
});

describe('whether tracing is requested, read from the raw environment', () => {
  it.each<[string, Record<string, string | undefined>, boolean]>([
    [
      'a traces-only endpoint',
      { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${ENDPOINT}/v1/traces` },
      true,
    ],
    ['an empty environment: no', {}, false],
    ['an endpoint: yes', { OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT }, true],
    ['an https endpoint: yes', { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector:4318' }, true],
    [
      'an endpoint padded with blanks: yes',
      { OTEL_EXPORTER_OTLP_ENDPOINT: `  ${ENDPOINT} ` },
      true,
    ],
    [
      'an endpoint that is not a URL counts as unset',
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' },
      false,
    ],
    [
      'an endpoint of another scheme counts as unset',
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'grpc://collector' },
      false,
    ],
    ['a blank endpoint counts as unset', { OTEL_EXPORTER_OTLP_ENDPOINT: '   ' }, false],
    ['OTEL_TRACES_EXPORTER=otlp: yes', { OTEL_TRACES_EXPORTER: 'otlp' }, true],
    ['OTEL_TRACES_EXPORTER=Console, any case: yes', { OTEL_TRACES_EXPORTER: ' Console ' }, true],
    ['an unknown exporter counts as unset', { OTEL_TRACES_EXPORTER: 'jaeger' }, false],
    [
      'an Azure Monitor connection string: yes',
      { APPLICATIONINSIGHTS_CONNECTION_STRING: AZURE },
      true,
    ],
    [
      'a blank Azure Monitor connection string counts as unset',
      { APPLICATIONINSIGHTS_CONNECTION_STRING: ' ' },
      false,
    ],
    [
      'OTEL_TRACES_EXPORTER=none wins over an endpoint',
      { OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT },
      false,
    ],
    [
      'OTEL_TRACES_EXPORTER=NONE wins over Azure Monitor',
      { OTEL_TRACES_EXPORTER: 'NONE', APPLICATIONINSIGHTS_CONNECTION_STRING: AZURE },
      false,
    ],
    ...(['true', '1', 'yes', 'TRUE', ' Yes '] as const).map(
      (disabled): [string, Record<string, string>, boolean] => [
        `OTEL_SDK_DISABLED=${JSON.stringify(disabled)} wins over everything`,
        {
          OTEL_SDK_DISABLED: disabled,
          OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT,
          OTEL_TRACES_EXPORTER: 'console',
          APPLICATIONINSIGHTS_CONNECTION_STRING: AZURE,
        },
        false,
      ],
    ),
    ...(['false', '0', 'no', 'maybe'] as const).map(
      (disabled): [string, Record<string, string>, boolean] => [
        `OTEL_SDK_DISABLED=${disabled} leaves the endpoint in charge`,
        { OTEL_SDK_DISABLED: disabled, OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT },
        true,
      ],
    ),
  ])('%s', (_what, env, expected) => {
    expect(tracingRequested(env)).toBe(expected);
  });
});

const CAPTURE_ENV = { MONGODB_URI: 'mongodb://127.0.0.1:27017/?replicaSet=rs0' };

const loaders = [
  [
    'capture',
    (env: Record<string, string>) => loadCaptureConfig({ ...CAPTURE_ENV, ...env }),
    captureSettings,
  ],
  ['writer', (env: Record<string, string>) => loadWriterConfig(env), writerSettings],
] as const;

function refusal(load: () => unknown): ConfigError {
  try {
    load();
  } catch (error) {
    if (isConfigError(error)) return error;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

describe.each(loaders)('the %s configuration’s telemetry settings', (_service, load, table) => {
  it('reads them when they are valid', () => {
    expect(
      load({
        OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_TRACES_EXPORTER: 'console',
        OTEL_METRICS_EXPORTER: 'none',
        OTEL_SDK_DISABLED: 'yes',
      }),
    ).toMatchObject({
      otlpEndpoint: ENDPOINT,
      otlpProtocol: 'grpc',
      tracesExporter: 'console',
      metricsExporter: 'none',
      sdkDisabled: true,
    });
  });

  it('defaults to no tracing and OTLP over protobuf', () => {
    const config = load({});
    expect(config).toMatchObject({ otlpProtocol: 'http/protobuf', sdkDisabled: false });
    expect(traceExportOf(config)).toBe('off');
    expect(pushesMetrics(config)).toBe(false);
  });

  it('names the missing endpoint when OTEL_TRACES_EXPORTER=otlp says where to send nothing', () => {
    const error = refusal(() => load({ OTEL_TRACES_EXPORTER: 'otlp' }));
    expect(error.problems.map((p) => p.setting)).toEqual(['OTEL_EXPORTER_OTLP_ENDPOINT']);
    expect(error.message).toContain('OTEL_EXPORTER_OTLP_ENDPOINT: is not set');
    expect(error.message).toContain('OTEL_TRACES_EXPORTER=otlp');
  });

  it('accepts OTEL_TRACES_EXPORTER=otlp once the endpoint is given', () => {
    expect(
      traceExportOf(load({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT })),
    ).toBe('otlp');
  });

  it('names the missing endpoint when OTEL_METRICS_EXPORTER=otlp has nowhere to push', () => {
    const error = refusal(() => load({ OTEL_METRICS_EXPORTER: 'otlp' }));
    expect(error.problems.map((p) => p.setting)).toEqual(['OTEL_EXPORTER_OTLP_ENDPOINT']);
    expect(error.message).toContain('OTEL_METRICS_EXPORTER=otlp');
  });

  it('names an unknown OTLP protocol and the ones it accepts', () => {
    const error = refusal(() =>
      load({ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift' }),
    );
    expect(error.problems.map((p) => p.setting)).toEqual(['OTEL_EXPORTER_OTLP_PROTOCOL']);
    expect(error.message).toContain(
      'OTEL_EXPORTER_OTLP_PROTOCOL: expected one of http/protobuf, http/json, grpc, got "thrift"',
    );
  });

  it('names an endpoint that is not an http(s) URL', () => {
    const error = refusal(() => load({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }));
    expect(error.problems.map((p) => p.setting)).toEqual(['OTEL_EXPORTER_OTLP_ENDPOINT']);
  });

  it('keeps the OTLP headers and the Azure Monitor connection string out of its messages and gives them to the redactor', () => {
    const headers = 'x-api-key=otlp-header-s3cret';
    const connection = 'InstrumentationKey=ikey-s3cret;IngestionEndpoint=https://x/';
    const env = {
      OTEL_EXPORTER_OTLP_HEADERS: headers,
      APPLICATIONINSIGHTS_CONNECTION_STRING: connection,
      // Refused, so the loader writes a message while both secrets are set.
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift',
    };
    const error = refusal(() => load(env));
    expect(error.problems.map((p) => p.setting).sort()).toEqual([
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'OTEL_EXPORTER_OTLP_PROTOCOL',
    ]);
    expect(error.message).not.toContain('otlp-header-s3cret');
    expect(error.message).not.toContain('ikey-s3cret');

    expect(secretValues(table, { ...CAPTURE_ENV, ...env })).toEqual(
      expect.arrayContaining([headers, connection]),
    );
  });
});
