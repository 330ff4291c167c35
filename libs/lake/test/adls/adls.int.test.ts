import { startAdlsEmulator, type AdlsEmulator } from '@tributary/emulator-adls';
import { afterAll, beforeAll, describe } from 'vitest';
import { describeLakeConformance } from '../lake-conformance.ts';
import { makeAdlsFixture, realAccountFromEnv } from './adls-fixture.ts';

let emulator: AdlsEmulator | undefined;

beforeAll(async () => {
  emulator = await startAdlsEmulator();
});
afterAll(async () => {
  await emulator?.stop();
});

function running(): AdlsEmulator {
  if (emulator === undefined) throw new Error('The ADLS emulator did not start.');
  return emulator;
}

describeLakeConformance('adls lake on the ADLS emulator', () =>
  makeAdlsFixture({
    accountUrl: running().url,
    accountName: running().accountName,
    accountKey: running().accountKey,
  }),
);

const real = realAccountFromEnv();
describe.runIf(real !== undefined)('against a real ADLS Gen2 account (ADLS_TEST_*)', () => {
  if (real === undefined) return;
  describeLakeConformance('adls lake on a real account', () => makeAdlsFixture(real));
});
