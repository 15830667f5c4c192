/** How a command's --log-level, --verbose, --json and PEERSYNC_LOG_LEVEL become the logging setup. */
import { applyLogLevelSpec, resetLogLevels, setLogSink } from '../util/log';
import { jsonSink, textSink } from '../util/log-sinks';
import { UsageError, type CommandContext } from './command';

/**
 * The explicit option wins over --verbose, which wins over the environment; with none of them only
 * warnings and errors are printed. Records go to stderr so stdout stays the command's result.
 */
export function configureCliLogging(values: CommandContext['values'], env: NodeJS.ProcessEnv = process.env): void {
  resetLogLevels();
  setLogSink(values.json === true ? jsonSink() : textSink());
  const option = values['log-level'];
  const [spec, source] =
    typeof option === 'string' ? [option, '--log-level'] : values.verbose === true ? ['debug', '--verbose'] : env.PEERSYNC_LOG_LEVEL ? [env.PEERSYNC_LOG_LEVEL, 'PEERSYNC_LOG_LEVEL'] : [undefined, ''];
  if (spec === undefined) return;
  try {
    applyLogLevelSpec(spec);
  } catch (e) {
    throw new UsageError(`${source}: ${(e as Error).message}`);
  }
}
