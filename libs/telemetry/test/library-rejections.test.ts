import { describe, expect, it } from 'vitest';
import { isLibraryRejection } from '../src/library-rejections.ts';

function errorWithStack(frames: string[]): Error {
  const error = new Error('boom');
  error.stack = ['Error: boom', ...frames.map((frame) => `    at ${frame}`)].join('\n');
  return error;
}

describe('unhandled rejections', () => {
  it.each([
    [
      'an AMQP error descriptor (not an Error) from the AMQP libraries',
      { value: [{ value: 'com.microsoft:session-lock-lost' }] },
      true,
    ],
    [
      'a session-close timeout raised inside rhea-promise',
      errorWithStack([
        'Timeout.actionAfterTimeout (/app/node_modules/rhea-promise/dist/lib/session.js:175:32)',
        'listOnTimeout (node:internal/timers:605:17)',
      ]),
      true,
    ],
    [
      'an error thrown in Tributary’s own code',
      errorWithStack([
        'PartitionLoop.#loop (file:///app/services/writer/src/partition-loop.ts:150:11)',
        'async Promise.all (index 0)',
      ]),
      false,
    ],
    [
      'an error passing through a library from Tributary’s code',
      errorWithStack([
        'Receiver.emit (/app/node_modules/rhea/lib/link.js:59:37)',
        'ServiceBusPartitionReader.next (file:///app/libs/queue/src/servicebus/servicebus-partition-reader.ts:120:5)',
      ]),
      false,
    ],
    ['an error without a located frame', errorWithStack(['async Promise.all (index 0)']), false],
  ])('%s is a library’s: %s', (_what, reason, library) => {
    expect(isLibraryRejection(reason)).toBe(library);
  });
});
