import { renderPath } from '@tributary/core';
import type { OplogRecord } from '@tributary/emulator-mongodb';
import type { LakeInventory } from '@tributary/lake';

/**
 * Source events whose line is not in the directory that `template`, their
 * namespace and their clusterTime give (events without a collection, such
 * as a dropDatabase, are left out).
 */
export function misplacedEvents(
  inventory: LakeInventory,
  source: readonly OplogRecord[],
  template: string,
): string[] {
  const misplaced: string[] = [];
  for (const record of source) {
    if (record.ns.coll === undefined) continue;
    const expected = renderPath(template, {
      db: record.ns.db,
      coll: record.ns.coll,
      eventTime: new Date(record.clusterTime.t * 1000),
    });
    const found = inventory.directories.get(record.resumeToken._data) ?? [];
    if (found.some((dir) => dir !== expected))
      misplaced.push(`${record.resumeToken._data}: in ${found.join(', ')}, not ${expected}`);
  }
  return misplaced;
}
