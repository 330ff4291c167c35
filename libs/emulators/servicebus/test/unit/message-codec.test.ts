import rhea from 'rhea';
import { describe, expect, it } from 'vitest';
import { AmqpDecodeError, valueEnd } from '../../src/amqp/amqp-reader.ts';
import { withApplicationProperties } from '../../src/amqp/application-properties.ts';
import { BATCH_MESSAGE_FORMAT, splitBatch } from '../../src/amqp/batch-envelope.ts';
import { encodeDelivery, parseMessage, stableAnnotations } from '../../src/amqp/message-codec.ts';
import { withMessageId } from '../../src/amqp/properties-section.ts';

const encode = (message: Record<string, unknown>): Buffer => rhea.message.encode(message);
const decode = (bytes: Buffer) => rhea.message.decode(bytes) as unknown as Record<string, unknown>;

describe('message codec', () => {
  it('reads the fields the broker needs and keeps the rest byte for byte', () => {
    const sent = encode({
      ttl: 30_000,
      durable: true,
      message_id: 'm-1',
      group_id: 'session-a',
      subject: 'hello',
      message_annotations: { 'x-opt-partition-key': 'pk', custom: 5, 'x-opt-sequence-number': 99 },
      application_properties: { a: 1, b: 'two' },
      body: rhea.message.data_section(Buffer.from('payload')),
    });
    const parsed = parseMessage(sent);
    expect(parsed).toMatchObject({
      durable: true,
      ttlMs: 30_000,
      messageId: 'm-1',
      sessionId: 'session-a',
      partitionKey: 'pk',
    });
    // The sender's own x-opt-sequence-number is dropped: the broker owns it.
    expect(parsed.annotations.count).toBe(2);
    const delivered = decode(
      encodeDelivery(stableAnnotations(parsed.annotations, 42, 1_700_000_000_000), parsed.rest, {
        durable: parsed.durable,
        priority: parsed.priority,
        ttlMs: parsed.ttlMs,
        deliveryCount: 3,
        lockedUntilMs: 1_700_000_060_000,
        state: 1,
      }),
    );
    expect(delivered).toMatchObject({
      durable: true,
      ttl: 30_000,
      delivery_count: 3,
      message_id: 'm-1',
      group_id: 'session-a',
      subject: 'hello',
      application_properties: { a: 1, b: 'two' },
    });
    const annotations = delivered['message_annotations'] as Record<string, unknown>;
    expect(annotations['x-opt-sequence-number']).toBe(42);
    expect(annotations['x-opt-enqueue-sequence-number']).toBe(42);
    expect((annotations['x-opt-enqueued-time'] as Date).getTime()).toBe(1_700_000_000_000);
    expect((annotations['x-opt-locked-until'] as Date).getTime()).toBe(1_700_000_060_000);
    expect(annotations['x-opt-message-state']).toBe(1);
    expect(annotations['x-opt-partition-key']).toBe('pk');
    expect(annotations['custom']).toBe(5);
    expect((delivered['body'] as { content: Buffer }).content.toString()).toBe('payload');
  });

  it('reads a scheduled enqueue time from the annotations', () => {
    const at = new Date('2030-01-01T00:00:00Z');
    const parsed = parseMessage(
      encode({ message_annotations: { 'x-opt-scheduled-enqueue-time': at }, body: 'x' }),
    );
    expect(parsed.scheduledEnqueueTimeMs).toBe(at.getTime());
  });

  it.each([
    ['a lone byte', Buffer.from([0x00])],
    ['a section that is not described', Buffer.from([0xa1, 0x01, 0x41])],
    ['an unknown section descriptor', Buffer.from([0x00, 0x53, 0x10, 0x40])],
    ['a truncated string', Buffer.from([0x00, 0x53, 0x77, 0xa1, 0x09, 0x41])],
    ['an unknown type code', Buffer.from([0x00, 0x53, 0x77, 0x3f])],
    [
      'a list claiming more bytes than sent',
      Buffer.from([0x00, 0x53, 0x73, 0xd0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1]),
    ],
  ])('refuses %s with a decode error', (_name, bytes) => {
    expect(() => parseMessage(bytes)).toThrow(AmqpDecodeError);
  });

  it('refuses values nested deeper than it reads', () => {
    const deep = Buffer.concat([Buffer.alloc(200, 0x00), Buffer.from([0x40])]);
    expect(() => valueEnd(deep, 0)).toThrow(AmqpDecodeError);
  });

  it('splits a batch envelope into its messages', () => {
    const inner = [encode({ message_id: 'a', body: 1 }), encode({ message_id: 'b', body: 2 })];
    const envelope = encode({ message_id: 'a', body: rhea.message.data_sections(inner) });
    expect(BATCH_MESSAGE_FORMAT).toBe(0x80013700);
    const split = splitBatch(envelope);
    expect(split.map((m) => parseMessage(m).messageId)).toEqual(['a', 'b']);
    expect(() => splitBatch(encode({ body: 'no data sections' }))).toThrow(AmqpDecodeError);
  });

  it('sets application properties, replacing named keys and keeping the others', () => {
    const rest = parseMessage(
      encode({ message_id: 'x', application_properties: { keep: 1, replace: 'old' }, body: 'b' }),
    ).rest;
    const changed = decode(
      withApplicationProperties(rest, {
        replace: 'new',
        DeadLetterReason: 'why',
        skipped: undefined,
      }),
    );
    expect(changed['application_properties']).toEqual({
      keep: 1,
      replace: 'new',
      DeadLetterReason: 'why',
    });
    expect(changed['message_id']).toBe('x');
    const added = decode(
      withApplicationProperties(parseMessage(encode({ body: 'b' })).rest, { k: true }),
    );
    expect(added['application_properties']).toEqual({ k: true });
    expect(added['body']).toBe('b');
  });

  it('assigns a message id to a message without one, keeping its other properties', () => {
    const rest = parseMessage(encode({ subject: 's', group_id: 'g', body: 'b' })).rest;
    const withId = decode(withMessageId(rest, 'assigned'));
    expect(withId).toMatchObject({
      message_id: 'assigned',
      subject: 's',
      group_id: 'g',
      body: 'b',
    });
    expect(
      decode(withMessageId(parseMessage(encode({ body: 'b' })).rest, 'only'))['message_id'],
    ).toBe('only');
  });
});
