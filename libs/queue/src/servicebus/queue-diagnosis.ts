import type { ServiceBusClient } from '@azure/service-bus';
import { bestEffort, isMissingQueue, translated } from './translate-error.ts';

/**
 * Why sessions of `queueName` cannot be accepted, when the SDK only says
 * `SessionCannotBeLocked`: it reports every refused session attach that
 * way — a session another receiver holds, but also a queue that does not
 * exist or does not require sessions. Two cheap probes tell them apart
 * without any right beyond `Listen`: a peek (which fails with
 * `MessagingEntityNotFound` for a missing queue), and a receive without a
 * session, which only a queue that does not require sessions grants.
 * Returns undefined when the queue looks right (the session is simply held).
 */
export async function diagnoseSessionQueue(
  client: ServiceBusClient,
  queueName: string,
  timeoutMs: number,
): Promise<string | undefined> {
  const receiver = client.createReceiver(queueName, { receiveMode: 'peekLock' });
  try {
    try {
      await translated(
        `looking at queue ${queueName}`,
        (abortSignal) => receiver.peekMessages(1, { abortSignal }),
        timeoutMs,
      );
    } catch (error) {
      if (isMissingQueue(error)) {
        return `the queue ${queueName} does not exist or is disabled; create it (see the README's Service Bus section) or fix TRIBUTARY_QUEUE_NAME`;
      }
      return undefined;
    }
    const granted = await translated(
      `receiving from queue ${queueName} without a session`,
      (abortSignal) => receiver.receiveMessages(1, { maxWaitTimeInMs: 1, abortSignal }),
      timeoutMs,
    ).catch(() => undefined);
    if (!granted) return undefined;
    // A message taken by the probe goes straight back.
    for (const message of granted) {
      await bestEffort(
        'returning a probed message',
        () => receiver.abandonMessage(message),
        ignoreProbeCleanup,
      );
    }
    return `the queue ${queueName} does not require sessions; Tributary needs RequiresSession=true, which is fixed when a queue is created — recreate it (see the README's Service Bus section)`;
  } finally {
    await bestEffort('closing the probe receiver', () => receiver.close(), ignoreProbeCleanup);
  }
}

/**
 * The probe's clean-up failing changes nothing: the diagnosis is already
 * made, a returned message's lock expires on its own, and the caller
 * reports the problem the probe was for.
 */
function ignoreProbeCleanup(): void {}
