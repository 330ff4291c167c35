import {
  AccountSASPermissions,
  DataLakeServiceClient,
  StorageSharedKeyCredential,
} from '@azure/storage-file-datalake';
import { afterEach, expect, it } from 'vitest';
import { expectExactlyOnce } from '../src/exactly-once.ts';
import { freePort, untilAnswer } from '../src/health.ts';
import { Pipeline } from '../src/pipeline.ts';
import type { ServiceProcess } from '../src/service-process.ts';
import { describeOnTransports } from '../src/transports.ts';

/** An account SAS of the pipeline's ADLS emulator, expiring at `expiresOn`. */
function accountSas(pipeline: Pipeline, expiresOn: Date): string {
  const adls = pipeline.requireAdls();
  const service = new DataLakeServiceClient(
    adls.url,
    new StorageSharedKeyCredential(adls.accountName, adls.accountKey),
  );
  const url = service.generateAccountSasUrl(
    expiresOn,
    AccountSASPermissions.parse('rwdlacup'),
    'sco',
  );
  return new URL(url).search;
}

const deadLettersIn = (processes: readonly ServiceProcess[]) =>
  processes
    .flatMap((p) => p.output().split('\n'))
    .filter((l) => l.includes('"msg":"batch sent to the dead letters"'));

describeOnTransports('the lake refusing a writer for reasons of the environment', (transport) => {
  let pipeline: Pipeline | undefined;
  afterEach(async () => {
    await pipeline?.close();
    pipeline = undefined;
  });

  it('an expired SAS mid-load: not ready, saying why, nothing dead-lettered; with a fresh SAS everything lands', async () => {
    pipeline = await Pipeline.start({ transport, lake: 'adls' });
    await pipeline.startCapture();
    const port = await freePort();
    const withSas = (expiresInMs: number) => ({
      ADLS_ACCOUNT_KEY: '',
      ADLS_SAS_TOKEN: accountSas(pipeline as Pipeline, new Date(Date.now() + expiresInMs)),
      TRIBUTARY_HEALTH_PORT: String(port),
      TRIBUTARY_SHUTDOWN_TIMEOUT_MS: '3000',
    });
    const expiring = pipeline.startWriter('w1', withSas(6_000));
    const load = pipeline.startLoad(40);
    await load.reach(4);
    const refused = await untilAnswer(
      port,
      '/readyz',
      (a) => a.status === 503 && a.body.includes('lake:'),
      40_000,
    );
    expect(refused.body).toMatch(/refused the credentials: renew the SAS token/);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(expiring.running).toBe(true);
    expect(deadLettersIn([expiring])).toEqual([]);
    // The operator renews the SAS: the writer is restarted with a fresh one.
    await expiring.stop();
    const renewed = pipeline.startWriter('w1', withSas(3_600_000));
    await load.done;

    expectExactlyOnce(await pipeline.waitUntilComplete(90_000));
    await untilAnswer(port, '/readyz', (a) => a.status === 200);
    expect(deadLettersIn([expiring, renewed])).toEqual([]);
    expect(await pipeline.transport().deadLetters().count()).toBe(0);
  }, 150_000);

  it('a conflict no client knows (an unknown 409): retried, not taken for a lost partition, nothing dead-lettered', async () => {
    pipeline = await Pipeline.start({ transport, lake: 'adls' });
    const adls = pipeline.requireAdls();
    await pipeline.startCapture();
    const port = await freePort();
    const writer = pipeline.startWriter('w1', { TRIBUTARY_HEALTH_PORT: String(port) });
    const load = pipeline.startLoad(30);
    await load.reach(4);
    const conflict = adls.faults.add({
      operations: ['path.flush'],
      pathContains: '/part-',
      status: 409,
      errorCode: 'SomethingNewAndStrange',
    });
    const refused = await untilAnswer(
      port,
      '/readyz',
      (a) => a.status === 503 && a.body.includes('lake:'),
    );
    expect(refused.body).toMatch(/conflict this release does not know/);
    await new Promise((r) => setTimeout(r, 4_000));
    adls.faults.remove(conflict);
    await load.done;

    expectExactlyOnce(await pipeline.waitUntilComplete(90_000));
    expect(deadLettersIn([writer])).toEqual([]);
    // Ownership never moved: each partition was gained once and never lost.
    expect(writer.output()).not.toMatch(/partition lost/);
    const gained = writer
      .output()
      .split('\n')
      .filter((l) => l.includes('"msg":"partition gained"'));
    expect(gained).toHaveLength(Number(pipeline.env.TRIBUTARY_PARTITION_COUNT));
  }, 150_000);
});
