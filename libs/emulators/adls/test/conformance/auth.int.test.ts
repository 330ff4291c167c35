import {
  AccountSASPermissions,
  DataLakeDirectoryClient,
  DataLakeFileSystemClient,
  DataLakeServiceClient,
  DataLakeFileClient,
  DataLakeSASPermissions,
  DirectorySASPermissions,
  FileSystemSASPermissions,
  StorageSharedKeyCredential,
} from '@azure/storage-file-datalake';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  onEmulator,
  openTarget,
  restError,
  type ConformanceTarget,
} from '../support/conformance-target.ts';

const noRetry = { retryOptions: { maxTries: 1 } };

function hoursFromNow(hours: number): Date {
  return new Date(Date.now() + hours * 3600_000);
}

describe('authorization', () => {
  let target: ConformanceTarget;
  let fs: DataLakeFileSystemClient;
  beforeAll(async () => {
    target = await openTarget();
    fs = await target.newFilesystem('auth');
    const file = fs.getFileClient('data/existing.txt');
    await file.upload(Buffer.from('secret'));
  });
  afterAll(async () => {
    await target.close();
  });

  it('refuses a Shared Key signature made with the wrong key with 403 AuthenticationFailed', async () => {
    const wrongKey = Buffer.alloc(64, 7).toString('base64');
    const client = new DataLakeServiceClient(
      target.url,
      new StorageSharedKeyCredential(target.accountName, wrongKey),
      noRetry,
    );
    const read = await restError(
      client.getFileSystemClient(fs.name).getFileClient('data/existing.txt').readToBuffer(),
    );
    expect(read.statusCode).toBe(403);
    expect(read.errorCode ?? read.code).toBe('AuthenticationFailed');
    const write = await restError(
      client.getFileSystemClient(fs.name).getFileClient('data/new.txt').create(),
    );
    expect(write.statusCode).toBe(403);
    expect(write.code).toBe('AuthenticationFailed');
  });

  it('answers a large append signed with the wrong key with 403, not a broken connection', async () => {
    const wrongKey = Buffer.alloc(64, 9).toString('base64');
    const client = new DataLakeServiceClient(
      target.url,
      new StorageSharedKeyCredential(target.accountName, wrongKey),
      noRetry,
    );
    const big = Buffer.alloc(8 * 1024 * 1024, 2);
    const error = await restError(
      client
        .getFileSystemClient(fs.name)
        .getFileClient('data/existing.txt')
        .append(big, 6, big.length),
    );
    expect(error.statusCode).toBe(403);
  });

  it('accepts a valid account SAS', async () => {
    const sasUrl = target.service.generateAccountSasUrl(
      hoursFromNow(1),
      AccountSASPermissions.parse('rwdlacup'),
      'sco',
    );
    const client = new DataLakeServiceClient(sasUrl, undefined, noRetry);
    const file = client.getFileSystemClient(fs.name).getFileClient('data/by-account-sas.txt');
    await file.upload(Buffer.from('via sas'));
    expect((await file.readToBuffer()).toString()).toBe('via sas');
  });

  it('refuses an expired account SAS with 403 AuthenticationFailed', async () => {
    const sasUrl = target.service.generateAccountSasUrl(
      new Date(Date.now() - 60_000),
      AccountSASPermissions.parse('rwdlacup'),
      'sco',
    );
    const client = new DataLakeServiceClient(sasUrl, undefined, noRetry);
    const error = await restError(
      client.getFileSystemClient(fs.name).getFileClient('data/existing.txt').readToBuffer(),
    );
    expect(error.statusCode).toBe(403);
    expect(error.errorCode ?? error.code).toBe('AuthenticationFailed');
  });

  it('refuses a write with a read-only account SAS with 403 AuthorizationPermissionMismatch', async () => {
    const sasUrl = target.service.generateAccountSasUrl(
      hoursFromNow(1),
      AccountSASPermissions.parse('rl'),
      'sco',
    );
    const client = new DataLakeServiceClient(sasUrl, undefined, noRetry);
    const fsClient = client.getFileSystemClient(fs.name);
    expect((await fsClient.getFileClient('data/existing.txt').readToBuffer()).toString()).toBe(
      'secret',
    );
    const error = await restError(fsClient.getFileClient('data/not-allowed.txt').create());
    expect(error.statusCode).toBe(403);
    expect(error.code).toBe('AuthorizationPermissionMismatch');
  });

  it('accepts a filesystem SAS for writes and listing within that filesystem', async () => {
    const sasUrl = await fs.generateSasUrl({
      permissions: FileSystemSASPermissions.parse('racwdl'),
      expiresOn: hoursFromNow(1),
    });
    const client = new DataLakeFileSystemClient(sasUrl, undefined, noRetry);
    const file = client.getFileClient('data/by-fs-sas.txt');
    await file.create();
    await file.append(Buffer.from('abc'), 0, 3);
    await file.flush(3);
    const names: string[] = [];
    for await (const item of client.listPaths({ path: 'data' })) names.push(item.name ?? '');
    expect(names).toContain('data/by-fs-sas.txt');
  });

  it('accepts a read-only file SAS for reading that file and refuses writing it', async () => {
    const fileClient = fs.getFileClient('data/existing.txt');
    const sasUrl = await fileClient.generateSasUrl({
      permissions: DataLakeSASPermissions.parse('r'),
      expiresOn: hoursFromNow(1),
    });
    const client = new DataLakeFileClient(sasUrl, undefined, noRetry);
    expect((await client.readToBuffer()).toString()).toBe('secret');
    const error = await restError(client.append(Buffer.from('x'), 6, 1));
    expect(error.statusCode).toBe(403);
    expect(error.code).toBe('AuthorizationPermissionMismatch');
  });

  it('refuses an expired file SAS with 403 AuthenticationFailed', async () => {
    const sasUrl = await fs.getFileClient('data/existing.txt').generateSasUrl({
      permissions: DataLakeSASPermissions.parse('r'),
      expiresOn: new Date(Date.now() - 60_000),
    });
    expect(new URL(sasUrl).searchParams.get('sr')).toBe('b');
    const error = await restError(
      new DataLakeFileClient(sasUrl, undefined, noRetry).readToBuffer(),
    );
    expect(error.statusCode).toBe(403);
    expect(error.errorCode ?? error.code).toBe('AuthenticationFailed');
  });

  it('refuses an expired filesystem SAS with 403 AuthenticationFailed', async () => {
    const sasUrl = await fs.generateSasUrl({
      permissions: FileSystemSASPermissions.parse('racwdl'),
      expiresOn: new Date(Date.now() - 60_000),
    });
    const error = await restError(
      new DataLakeFileSystemClient(sasUrl, undefined, noRetry).getFileClient('data/x.txt').create(),
    );
    expect(error.statusCode).toBe(403);
    expect(error.code).toBe('AuthenticationFailed');
  });

  it('accepts a directory SAS (sr=d) for paths inside its directory and refuses it outside', async () => {
    await fs.getDirectoryClient('data/scoped').create();
    const sasUrl = await fs.getDirectoryClient('data/scoped').generateSasUrl({
      permissions: DirectorySASPermissions.parse('racwl'),
      expiresOn: hoursFromNow(1),
    });
    const sas = new URL(sasUrl).searchParams;
    expect(sas.get('sr')).toBe('d');
    expect(sas.get('sdd')).toBe('2');
    const directory = new DataLakeDirectoryClient(sasUrl, undefined, noRetry);
    const inside = directory.getFileClient('inner/by-dir-sas.txt');
    await inside.create();
    await inside.append(Buffer.from('scoped'), 0, 6);
    await inside.flush(6);
    expect((await inside.readToBuffer()).toString()).toBe('scoped');
    expect(
      (await fs.getFileClient('data/scoped/inner/by-dir-sas.txt').readToBuffer()).toString(),
    ).toBe('scoped');
    // The same SAS on a sibling of the directory and on its parent.
    for (const outsidePath of ['data/existing.txt', 'data/scoped-not/x.txt', 'data']) {
      const outside = new URL(sasUrl);
      outside.pathname = outside.pathname.replace('data/scoped', outsidePath);
      const error = await restError(
        new DataLakeFileClient(outside.toString(), undefined, noRetry).getProperties(),
      );
      expect(error.statusCode).toBe(403);
      expect(error.errorCode ?? error.code).toBe('AuthenticationFailed');
    }
  });

  it('refuses a file SAS used for another file with 403', async () => {
    const sasUrl = await fs.getFileClient('data/existing.txt').generateSasUrl({
      permissions: DataLakeSASPermissions.parse('r'),
      expiresOn: hoursFromNow(1),
    });
    const other = new URL(sasUrl);
    other.pathname = other.pathname.replace('existing.txt', 'by-account-sas.txt');
    const error = await restError(
      new DataLakeFileClient(other.toString(), undefined, noRetry).readToBuffer(),
    );
    expect(error.statusCode).toBe(403);
  });

  it.skipIf(!onEmulator)('refuses a request with no credentials with 401', async () => {
    const client = new DataLakeServiceClient(target.url, undefined, noRetry);
    const error = await restError(
      client.getFileSystemClient(fs.name).getFileClient('data/existing.txt').getProperties(),
    );
    expect(error.statusCode).toBe(401);
  });
});
