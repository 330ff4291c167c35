import { LakeError } from './lake-error.ts';

/**
 * The write-lease rule of the port, for adapters that enforce it themselves
 * (ADLS enforces it at the service): a leased file is changed only under its
 * lease, and naming a lease the file does not hold fails too, as ADLS
 * answers 412 LeaseIdMismatchWithBlobOperation / LeaseNotPresentWithBlobOperation.
 *
 * @throws LakeError `CONFLICT` when `named` is not the lease `held`.
 */
export function checkLease(
  path: string,
  held: string | undefined,
  named: string | undefined,
): void {
  if (held === named) return;
  throw new LakeError(
    'CONFLICT',
    held === undefined
      ? `${path} holds no write lease, but the request names one: the lease was taken over.`
      : `${path} is leased by another writer.`,
  );
}
