import { DefaultAzureCredential } from '@azure/identity';
import { TRANSPORT_MESSAGE_LIMITS } from '@tributary/core';
import { BullMQOtel } from 'bullmq-otel';
import { createBullmqTransport } from './bullmq/bullmq-transport.ts';
import { createServiceBusTransport } from './servicebus/servicebus-transport.ts';
import type { QueueError } from './queue-error.ts';
import type { QueueTransport } from './transport.ts';

/** The transport settings both services read (see `sharedSettings` in `@tributary/core`). */
export interface TransportSettings {
  readonly transport: 'bullmq' | 'servicebus';
  readonly redisUrl: string;
  readonly queueName: string;
  readonly partitionCount: number;
  /**
   * Writers only. BullMQ: how long a partition lease lasts without renewal.
   * Service Bus: the session lock duration the writers plan with (at most
   * the queue's LockDuration).
   */
  readonly leaseTtlMs?: number;
  /**
   * Service Bus: a shared access policy's connection string. Validated
   * settings carry this or {@link serviceBusNamespace}, never both.
   */
  readonly serviceBusConnectionString?: string | undefined;
  /** Service Bus: `NAME.servicebus.windows.net`, authenticated with `DefaultAzureCredential`. */
  readonly serviceBusNamespace?: string | undefined;
}

/** What a service wants to hear from its transport. */
export interface TransportHooks {
  /**
   * Failures that happen in the background (lease renewals, lost
   * connections), for logs and readiness; the transport has already acted on them.
   */
  readonly onBackgroundError?: (error: QueueError) => void;
  /**
   * The process exports traces: a broker client with an instrumentation
   * interface of its own (BullMQ's) is given one. The Azure SDK is traced
   * through `@azure/core-tracing` whatever this says.
   */
  readonly traced?: boolean;
}

/**
 * Opens the transport the validated settings name. The one place that
 * knows the adapters: a second transport adds one branch here and touches
 * nothing else outside its folder.
 */
export function createTransportFromConfig(
  settings: TransportSettings,
  hooks: TransportHooks = {},
): QueueTransport {
  switch (settings.transport) {
    case 'bullmq':
      return createBullmqTransport({
        redisUrl: settings.redisUrl,
        queueName: settings.queueName,
        partitionCount: settings.partitionCount,
        maxBatchBytes: TRANSPORT_MESSAGE_LIMITS.bullmq,
        ...(settings.leaseTtlMs === undefined ? {} : { leaseTtlMs: settings.leaseTtlMs }),
        ...(hooks.onBackgroundError ? { onBackgroundError: hooks.onBackgroundError } : {}),
        ...(hooks.traced ? { telemetry: new BullMQOtel({ tracerName: 'bullmq' }) } : {}),
      });
    case 'servicebus':
      return createServiceBusTransport({
        // Azure identity (managed identity, workload identity, the Azure CLI
        // …) when no connection string is given. Creating the credential
        // contacts nothing; it asks for a token when the client connects.
        ...(settings.serviceBusConnectionString
          ? { connectionString: settings.serviceBusConnectionString }
          : {
              fullyQualifiedNamespace: settings.serviceBusNamespace,
              credential: new DefaultAzureCredential(),
            }),
        queueName: settings.queueName,
        partitionCount: settings.partitionCount,
        maxBatchBytes: TRANSPORT_MESSAGE_LIMITS.servicebus,
        ...(settings.leaseTtlMs === undefined ? {} : { leaseTtlMs: settings.leaseTtlMs }),
        ...(hooks.onBackgroundError ? { onBackgroundError: hooks.onBackgroundError } : {}),
      });
  }
}
