import { describe, expect, it } from 'vitest';
import { accountNameOf } from '../src/index.ts';

describe('the account name in an ADLS URL', () => {
  it.each([
    ['https://acct.dfs.core.windows.net', 'acct'],
    ['https://acct.dfs.core.windows.net/', 'acct'],
    ['http://127.0.0.1:10004/devstoreaccount1', 'devstoreaccount1'],
    ['http://adls:10004/devstoreaccount1/', 'devstoreaccount1'],
  ])('of %s is %s', (url, name) => {
    expect(accountNameOf(url)).toBe(name);
  });
});
