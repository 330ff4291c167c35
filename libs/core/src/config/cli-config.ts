import { type EnvSource, loadConfig } from './load-config.ts';
import { captureSettings } from './capture-config.ts';
import { intSetting, urlSetting } from './setting.ts';
import { lakeRule, sharedSettings, transportRule } from './shared-settings.ts';
import { writerSettings } from './writer-config.ts';

/**
 * What the operator command reads: the services' own settings (the same
 * environment reaches the same queue, checkpoints and lake), MongoDB only
 * for the commands that read the source.
 */
export const cliSettings = {
  ...sharedSettings,
  pathTemplate: writerSettings.pathTemplate,
  partitionKey: captureSettings.partitionKey,
  mongodbUri: urlSetting({
    env: 'MONGODB_URI',
    description:
      'MongoDB connection string; needed by `tributary verify` (comparing with the source) and for the oplog window in `tributary status`.',
    schemes: ['mongodb', 'mongodb+srv'],
    secret: true,
    optional: true,
  }),
  headroomWarnPercent: intSetting({
    env: 'TRIBUTARY_HEADROOM_WARN_PERCENT',
    description:
      '`tributary status` warns when capture’s resume point is within this share (percent) of the oldest end of the oplog window.',
    min: 1,
    max: 99,
    defaultText: '20',
  }),
};

/** The operator command's validated configuration. */
export type CliConfig = ReturnType<typeof loadCliConfig>;

/**
 * Validates the operator command's configuration from the environment.
 *
 * @throws ConfigError naming every problem, before anything is contacted.
 */
export function loadCliConfig(env: EnvSource) {
  return loadConfig('tributary', cliSettings, env, [lakeRule, transportRule]);
}
