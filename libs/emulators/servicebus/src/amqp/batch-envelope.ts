import { AmqpDecodeError } from './amqp-reader.ts';
import { SECTION } from './amqp-writer.ts';
import { scanSections } from './message-codec.ts';

/**
 * Message format of a Service Bus batch: `0x80013700` (Microsoft's vendor
 * code 0x00000137, format 0). The SDK's `ServiceBusMessageBatch` sends one
 * envelope message whose data sections are each a complete encoded message
 * (`serviceBusMessageBatch.js`, `_generateBatch`); the envelope's own
 * properties and annotations are copies from the first message and carry no
 * meaning of their own.
 */
export const BATCH_MESSAGE_FORMAT = 0x80013700;

/** The encoded messages inside a batch envelope. Throws {@link AmqpDecodeError}. */
export function splitBatch(envelope: Buffer): Buffer[] {
  const messages: Buffer[] = [];
  for (const section of scanSections(envelope)) {
    if (section.code !== SECTION.data) continue;
    const code = envelope[section.valueStart];
    const header = code === 0xa0 ? 2 : code === 0xb0 ? 5 : -1;
    if (header < 0) throw new AmqpDecodeError('a batch data section must hold binary');
    messages.push(envelope.subarray(section.valueStart + header, section.end));
  }
  if (messages.length === 0) throw new AmqpDecodeError('a batch holds no messages');
  return messages;
}
