import { ExitCode, exitCodeFor } from './error-mapping';
import { Output, UsageError, helpText, parseCommandArgs, type CommandSpec } from './cli/command';
import { dbCommands } from './cli/db-commands';
import { configureCliLogging } from './cli/logging-options';
import { queryCommand } from './cli/query-command';
import { serveCommand } from './cli/serve-command';
import { replicateCommand } from './cli/replicate-command';
import { securityCommands } from './cli/security-commands';

const commands: CommandSpec[] = [...dbCommands, queryCommand, serveCommand, replicateCommand, ...securityCommands];

function topHelp(): string {
  const rows = commands.map((c) => `  ${c.name.padEnd(16)} ${c.summary}`);
  return [
    'Usage: peersync <command> [options]',
    '',
    'PeerSync: peer-to-peer document sync (Couchbase Lite protocol) with a durable local store.',
    '',
    'Commands:',
    ...rows,
    '',
    'Run peersync <command> --help for its options.',
  ].join('\n');
}

function findCommand(argv: string[]): { spec: CommandSpec; rest: string[] } | undefined {
  for (const spec of commands) {
    const words = spec.name.split(' ');
    if (words.every((w, i) => argv[i] === w)) return { spec, rest: argv.slice(words.length) };
  }
  return undefined;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(topHelp() + '\n');
    return argv.length === 0 ? ExitCode.usage : 0;
  }
  const found = findCommand(argv);
  const group = commands.filter((c) => c.name.startsWith(`${argv[0]} `));
  if (!found && group.length > 0 && (argv.length === 1 || argv[1] === '--help' || argv[1] === '-h')) {
    const rows = group.map((c) => `  ${c.name.padEnd(16)} ${c.summary}`);
    process.stdout.write([`Usage: peersync ${argv[0]} <command> [options]`, '', 'Commands:', ...rows, '', `Run peersync ${argv[0]} <command> --help for its options.`].join('\n') + '\n');
    return argv.length === 1 ? ExitCode.usage : 0;
  }
  if (!found) {
    const hint = group.length > 0 ? ` (${argv[0]} subcommands: ${group.map((c) => c.name.split(' ')[1]).join(', ')})` : '';
    process.stderr.write(`peersync: error: unknown command ${JSON.stringify(argv.slice(0, 2).join(' '))}${hint}; see peersync --help\n`);
    return ExitCode.usage;
  }
  const { spec, rest } = found;
  try {
    const { values, positionals } = parseCommandArgs(spec, rest);
    if (values.help) {
      process.stdout.write(helpText(spec) + '\n');
      return 0;
    }
    configureCliLogging(values);
    const code = await spec.run({ values, positionals, out: new Output(values.json === true) });
    return typeof code === 'number' ? code : 0;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    process.stderr.write(`peersync: error: ${message.split('\n')[0]}\n`);
    if (e instanceof UsageError) return ExitCode.usage;
    const code = exitCodeFor(e);
    if (code === ExitCode.other && process.env.PEERSYNC_DEBUG) console.error(e);
    return code;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`peersync: fatal: ${String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
