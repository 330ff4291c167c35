import { inspect } from 'node:util';
import { createServiceBusTransport } from '../src/servicebus/servicebus-transport.ts';
process.on('unhandledRejection', (reason) => {
  console.error('UNHANDLED', inspect(reason, { depth: 4 }), (reason as object)?.constructor?.name);
});
const t = createServiceBusTransport({
  connectionString: process.env.CS!,
  queueName: 'q',
  partitionCount: 2,
  leaseTtlMs: 2000,
  onBackgroundError: (e) => console.log('bg', e.code, e.message.slice(0, 150)),
});
const claims = t.claims({ writerId: 'child' });
await claims.start({
  gained: (r) => {
    void (async () => {
      for (;;) {
        try {
          const b = await r.next(1000);
          if (b) {
            console.log('got', b.id);
            await new Promise((x) => setTimeout(x, 4000));
            await r.ack(b);
            console.log('acked', b.id);
          }
        } catch (e) {
          console.log(
            'reader err',
            (e as { code?: string }).code,
            (e as Error).message.slice(0, 150),
          );
          return;
        }
      }
    })();
  },
  lost: (p) => console.log('lost', p),
});
setInterval(() => {}, 1000);
