import { isIP } from 'node:net';

/**
 * True when `host` is only reachable from this machine: `localhost` or an
 * address in 127.0.0.0/8 or `::1`. The admin route shares the AMQP port and
 * has no authentication, so listening anywhere else lets whoever can reach
 * the port inject faults and read queue contents.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}
