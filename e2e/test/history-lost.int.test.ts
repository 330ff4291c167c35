import { afterEach, expect, it } from 'vitest';
import { runMixedLoad } from '../src/mixed-load.ts';
import { Pipeline } from '../src/pipeline.ts';
import { describeOnTransports, runsOnce } from '../src/transports.ts';

describeOnTransports('capture when MongoDB no longer has its history', (transport) => {
  let pipeline: Pipeline | undefined;
  afterEach(async () => {
    await pipeline?.close();
    pipeline = undefined;
  });

  // Between MongoDB and capture: once, whatever the queue.
  it.runIf(runsOnce(transport))(
    'stops with a clear error naming ChangeStreamHistoryLost instead of skipping events',
    async () => {
      pipeline = await Pipeline.start({ transport, lake: 'local', oplogMaxEntries: 100 });
      const first = await pipeline.startCapture();
      pipeline.startWriter('w1');
      await runMixedLoad(pipeline.client, { rounds: 1 });
      await pipeline.waitUntilComplete();
      expect((await first.stop('SIGTERM')).code).toBe(0);

      // While capture is down, more changes than the oplog keeps: its resume point falls off.
      await runMixedLoad(pipeline.client, { rounds: 6 });
      const second = await pipeline.startCapture();
      const exit = await second.exited;
      expect(exit.code).toBe(1);
      expect(second.output()).toMatch(/ChangeStreamHistoryLost/);
      expect(second.output()).toMatch(/Capture stopped rather than skip them/);
    },
  );
});
