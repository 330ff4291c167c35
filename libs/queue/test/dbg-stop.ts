import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startServiceBusEmulator } from '@tributary/emulator-servicebus';
import { createServiceBusTransport } from '../src/servicebus/servicebus-transport.ts';
const em = await startServiceBusEmulator({
  queues: { q: { requiresSession: true, lockDurationMs: 2000 } },
});
const t = createServiceBusTransport({
  connectionString: em.connectionString,
  queueName: 'q',
  partitionCount: 2,
  leaseTtlMs: 2000,
});
const pub = t.publisher();
for (const s of [1, 2, 3])
  await pub.publish({ partition: 0, generation: 1, sequence: s, body: new Uint8Array([s]) });
const script = fileURLToPath(new URL('./dbg-child.ts', import.meta.url));
const child = spawn(process.execPath, [script], {
  env: { ...process.env, CS: em.connectionString },
  stdio: ['ignore', 'inherit', 'inherit'],
});
await new Promise((r) => setTimeout(r, 3000));
console.log('STOP');
child.kill('SIGSTOP');
await new Promise((r) => setTimeout(r, 15000));
console.log('CONT');
child.kill('SIGCONT');
await new Promise((r) => setTimeout(r, 20000));
console.log('exit code', child.exitCode);
child.kill('SIGKILL');
await t.close();
await em.stop();
