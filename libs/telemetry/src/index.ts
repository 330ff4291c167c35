export { startHealthServer, type HealthChecks, type HealthServer } from './health-server.ts';
export { EXIT_FAILURE, EXIT_OK, exitOnSignal, listenForStopSignals } from './graceful-shutdown.ts';
export { closeEach, type Closable } from './close-each.ts';
export { ResourceStack } from './resource-stack.ts';
export { Readiness } from './readiness.ts';
export { watchDependency, type DependencyJudge } from './watched-dependency.ts';
export {
  DependencyWaiter,
  judgeStoreFailure,
  type DependencyFailure,
  type FailureJudge,
} from './dependency-waiter.ts';
export { handleUnhandledRejections, isLibraryRejection } from './library-rejections.ts';
