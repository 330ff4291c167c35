export { redisUrl, requireRedis } from './redis.ts';
export { ConnectionRecorder } from './connection-recorder.ts';
export { runNodeScript, type ProcessResult } from './run-process.ts';
export { NodeProcess } from './node-process.ts';
export {
  redisAnswers,
  redisServerInstalled,
  startPrivateRedis,
  type PrivateRedis,
} from './private-redis.ts';
export { freePort } from './free-port.ts';
