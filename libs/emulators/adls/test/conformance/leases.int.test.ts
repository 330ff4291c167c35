import { randomUUID } from 'node:crypto';
import type { DataLakeFileClient, DataLakeFileSystemClient } from '@azure/storage-file-datalake';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  onEmulator,
  openTarget,
  restError,
  type ConformanceTarget,
} from '../support/conformance-target.ts';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Leases on files: the single-writer fencing the writer relies on. */
describe('leases', () => {
  let target: ConformanceTarget;
  let fs: DataLakeFileSystemClient;
  let counter = 0;
  beforeAll(async () => {
    target = await openTarget();
    fs = await target.newFilesystem('lease');
  });
  afterAll(async () => {
    await target.close();
  });

  async function newFile(): Promise<DataLakeFileClient> {
    const file = fs.getFileClient(`leased/f${counter++}.jsonl`);
    await file.create();
    return file;
  }

  it('acquires a lease and refuses appends, flushes and deletes without it (412 LeaseIdMissing)', async () => {
    const file = await newFile();
    const lease = file.getDataLakeLeaseClient();
    const acquired = await lease.acquireLease(30);
    expect(acquired.leaseId).toBe(lease.leaseId);
    expect((await file.getProperties()).leaseState).toBe('leased');
    const append = await restError(file.append(Buffer.from('x'), 0, 1));
    expect(append.statusCode).toBe(412);
    expect(append.code).toBe('LeaseIdMissing');
    await file.append(Buffer.from('x'), 0, 1, { conditions: { leaseId: lease.leaseId } });
    const flush = await restError(file.flush(1));
    expect(flush.statusCode).toBe(412);
    expect(flush.code).toBe('LeaseIdMissing');
    await file.flush(1, { conditions: { leaseId: lease.leaseId } });
    const deletion = await restError(file.delete());
    expect(deletion.statusCode).toBe(412);
    expect(deletion.code).toBe('LeaseIdMissing');
    expect(await file.exists()).toBe(true);
    await lease.releaseLease();
  });

  it('refuses a write that names another lease id with 412', async () => {
    const file = await newFile();
    await file.getDataLakeLeaseClient().acquireLease(-1);
    const error = await restError(
      file.append(Buffer.from('x'), 0, 1, { conditions: { leaseId: randomUUID() } }),
    );
    expect(error.statusCode).toBe(412);
    expect(error.code).toBe('LeaseIdMismatch');
  });

  it('refuses a second writer acquiring a held lease with 409 LeaseAlreadyPresent', async () => {
    const file = await newFile();
    await file.getDataLakeLeaseClient().acquireLease(15);
    const error = await restError(file.getDataLakeLeaseClient().acquireLease(15));
    expect(error.statusCode).toBe(409);
    expect(error.code).toBe('LeaseAlreadyPresent');
  });

  it('renews, changes and releases a lease', async () => {
    const file = await newFile();
    const lease = file.getDataLakeLeaseClient();
    await lease.acquireLease(15);
    await lease.renewLease();
    const next = randomUUID();
    await lease.changeLease(next);
    expect(lease.leaseId).toBe(next);
    await file.append(Buffer.from('y'), 0, 1, { conditions: { leaseId: next } });
    await lease.releaseLease();
    expect((await file.getProperties()).leaseState).toBe('available');
    await file.flush(1);
  });

  it('refuses renewing a lease with the wrong id (409) and writing with a lease id when none is held (412)', async () => {
    const file = await newFile();
    const lease = file.getDataLakeLeaseClient();
    await lease.acquireLease(15);
    const wrong = await restError(file.getDataLakeLeaseClient(randomUUID()).renewLease());
    expect(wrong.statusCode).toBe(409);
    expect(wrong.code).toBe('LeaseIdMismatchWithLeaseOperation');
    await lease.releaseLease();
    const none = await restError(
      file.append(Buffer.from('x'), 0, 1, { conditions: { leaseId: lease.leaseId } }),
    );
    expect(none.statusCode).toBe(412);
    expect(none.code).toBe('LeaseNotPresent');
  });

  it('breaks a lease so a new owner can take over, and the old owner is fenced off', async () => {
    const file = await newFile();
    const oldOwner = file.getDataLakeLeaseClient();
    await oldOwner.acquireLease(-1);
    const broken = await file.getDataLakeLeaseClient().breakLease(0);
    expect(broken.leaseTime).toBe(0);
    expect((await file.getProperties()).leaseState).toBe('broken');
    const newOwner = file.getDataLakeLeaseClient();
    await newOwner.acquireLease(-1);
    const fenced = await restError(
      file.append(Buffer.from('old'), 0, 3, { conditions: { leaseId: oldOwner.leaseId } }),
    );
    expect(fenced.statusCode).toBe(412);
    expect(fenced.code).toBe('LeaseIdMismatch');
    await file.append(Buffer.from('new'), 0, 3, { conditions: { leaseId: newOwner.leaseId } });
    await file.flush(3, { conditions: { leaseId: newOwner.leaseId } });
    expect((await file.readToBuffer()).toString()).toBe('new');
  });

  it('breaks a fixed lease over a break period (breaking, then broken)', async () => {
    const file = await newFile();
    await file.getDataLakeLeaseClient().acquireLease(60);
    const broken = await file.getDataLakeLeaseClient().breakLease(1);
    expect(broken.leaseTime).toBe(1);
    expect((await file.getProperties()).leaseState).toBe('breaking');
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await file.getProperties()).leaseState).toBe('broken');
  });

  it('acquires a lease with an append (x-ms-lease-action: acquire) and releases it with the flush', async () => {
    const file = await newFile();
    const leaseId = randomUUID();
    await file.append(Buffer.from('abc'), 0, 3, {
      leaseAction: 'acquire',
      proposedLeaseId: leaseId,
      leaseDurationInSeconds: 15,
    });
    expect((await file.getProperties()).leaseState).toBe('leased');
    expect((await restError(file.append(Buffer.from('d'), 3, 1))).statusCode).toBe(412);
    await file.flush(3, { leaseAction: 'release', conditions: { leaseId } });
    expect((await file.getProperties()).leaseState).toBe('available');
    expect((await file.readToBuffer()).toString()).toBe('abc');
  });

  it('flushes under a momentary lease with acquire-release', async () => {
    const file = await newFile();
    await file.append(Buffer.from('abc'), 0, 3);
    await file.flush(3, {
      leaseAction: 'acquire-release',
      proposedLeaseId: randomUUID(),
      leaseDurationInSeconds: 15,
    });
    expect((await file.getProperties()).leaseState).toBe('available');
    expect((await file.readToBuffer()).toString()).toBe('abc');
  });

  it('acquires a lease with a flush (x-ms-lease-action: acquire) that fences other writers', async () => {
    const file = await newFile();
    const leaseId = randomUUID();
    await file.append(Buffer.from('abc'), 0, 3);
    await file.flush(3, {
      leaseAction: 'acquire',
      proposedLeaseId: leaseId,
      leaseDurationInSeconds: 15,
    });
    const props = await file.getProperties();
    expect(props.leaseState).toBe('leased');
    expect(props.leaseDuration).toBe('fixed');
    const unleased = await restError(file.append(Buffer.from('d'), 3, 1));
    expect(unleased.statusCode).toBe(412);
    expect(unleased.code).toBe('LeaseIdMissing');
    await file.append(Buffer.from('d'), 3, 1, { conditions: { leaseId } });
    await file.flush(4, { leaseAction: 'release', conditions: { leaseId } });
    expect((await file.readToBuffer()).toString()).toBe('abcd');
  });

  it.each(['append', 'flush'] as const)(
    'refuses x-ms-lease-action: acquire on %s without x-ms-lease-duration with 400 MissingRequiredHeader',
    async (operation) => {
      const file = await newFile();
      const lease = { leaseAction: 'acquire' as const, proposedLeaseId: randomUUID() };
      if (operation === 'flush') await file.append(Buffer.from('abc'), 0, 3);
      const error = await restError(
        operation === 'append'
          ? file.append(Buffer.from('abc'), 0, 3, lease)
          : file.flush(3, lease),
      );
      expect(error.statusCode).toBe(400);
      expect(error.code).toBe('MissingRequiredHeader');
      expect((await file.getProperties()).leaseState).toBe('available');
    },
  );

  it.skipIf(!onEmulator).each(['append', 'flush'] as const)(
    'extends the lease expiry with x-ms-lease-action: auto-renew on %s',
    async (operation) => {
      const file = await newFile();
      const lease = file.getDataLakeLeaseClient();
      await lease.acquireLease(15);
      const before = target.emulator?.inspectPath(fs.name, file.name)?.leaseExpiresAt ?? 0;
      expect(before).toBeGreaterThan(Date.now());
      await sleep(300);
      const renewedAt = Date.now();
      const conditions = { leaseId: lease.leaseId };
      if (operation === 'append') {
        await file.append(Buffer.from('d'), 0, 1, { leaseAction: 'auto-renew', conditions });
      } else {
        await file.append(Buffer.from('d'), 0, 1, { conditions });
        await file.flush(1, { leaseAction: 'auto-renew', conditions });
      }
      const after = target.emulator?.inspectPath(fs.name, file.name)?.leaseExpiresAt ?? 0;
      // Renewed: the 15-second clock restarted at the request, so the lease outlives its first expiry.
      expect(after).toBeGreaterThanOrEqual(renewedAt + 15_000);
      expect(after - before).toBeGreaterThanOrEqual(250);
      expect((await file.getProperties()).leaseState).toBe('leased');
      await lease.releaseLease();
    },
  );

  it('breaks an already broken lease again through the SDK (Blob lease API: 202, still broken)', async () => {
    const file = await newFile();
    await file.getDataLakeLeaseClient().acquireLease(-1);
    await file.getDataLakeLeaseClient().breakLease(0);
    const again = await file.getDataLakeLeaseClient().breakLease(0);
    expect(again.leaseTime).toBe(0);
    expect((await file.getProperties()).leaseState).toBe('broken');
  });
});
