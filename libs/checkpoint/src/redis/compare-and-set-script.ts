/**
 * The compare-and-set, run atomically inside Redis (a Lua script runs with
 * nothing interleaved: https://redis.io/docs/latest/develop/interact/programmability/eval-intro/).
 * The checkpoint is a hash `{ version, value }`; `version` is a counter that
 * only this script moves.
 *
 * KEYS[1] the partition's key; ARGV[1] the expected version ('' for none
 * stored); ARGV[2] the encoded checkpoint.
 *
 * Returns `{1, newVersion}` on success, `{0, storedVersion}` when the stored
 * version is not the expected one, `{-1, type}` when the key holds
 * something that is not a checkpoint hash.
 *
 * A caller that retries after losing the answer finds its own write stored:
 * when the stored value is exactly the one given (it carries the writer's id,
 * fencing token and time, so no other writer produces it), that write is
 * reported as done, `{1, storedVersion}`, rather than as a conflict.
 */
export const COMPARE_AND_SET_SCRIPT = `
local keyType = redis.call('TYPE', KEYS[1]).ok
if keyType ~= 'none' and keyType ~= 'hash' then return {-1, keyType} end
local stored = redis.call('HGET', KEYS[1], 'version')
if stored == false then stored = '' end
if stored ~= ARGV[1] then
  if stored ~= '' and redis.call('HGET', KEYS[1], 'value') == ARGV[2] then return {1, stored} end
  return {0, stored}
end
local counter = tonumber(stored)
if stored ~= '' and counter == nil then return {-1, 'version ' .. stored} end
local nextVersion = tostring((counter or 0) + 1)
redis.call('HSET', KEYS[1], 'version', nextVersion, 'value', ARGV[2])
return {1, nextVersion}
`;
