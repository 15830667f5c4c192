import { parseArgs, type ParseArgsConfig } from 'node:util';

type OptionSpec = NonNullable<ParseArgsConfig['options']>[string] & { description: string; valueName?: string };

export interface CommandSpec {
  /** e.g. "db put" */
  readonly name: string;
  readonly summary: string;
  /** Positional arguments as shown in usage, e.g. "ID [JSON]". */
  readonly args?: string;
  readonly options?: Record<string, OptionSpec>;
  readonly details?: string;
  run(ctx: CommandContext): Promise<number | void>;
}

export interface CommandContext {
  readonly values: Record<string, string | boolean | string[] | undefined>;
  readonly positionals: string[];
  readonly out: Output;
}

/** Output that is either human text or one JSON value per result (`--json`). */
export class Output {
  constructor(
    readonly json: boolean,
    private readonly stdout: NodeJS.WriteStream = process.stdout,
  ) {}

  /** Prints a result: JSON when --json, else the human rendering. */
  result(value: unknown, human?: () => string): void {
    if (this.json || !human) this.stdout.write(JSON.stringify(value) + '\n');
    else this.stdout.write(human() + '\n');
  }

  line(text: string): void {
    this.stdout.write(text + '\n');
  }

  get isTty(): boolean {
    return this.stdout.isTTY === true && !this.json;
  }
}

/** Options every command accepts. */
export const COMMON_OPTIONS: Record<string, OptionSpec> = {
  db: { type: 'string', description: 'database directory (default $PEERSYNC_DB or ./.peersync/inventory)', valueName: 'PATH' },
  json: { type: 'boolean', description: 'machine-readable JSON output (log records too, as JSON lines on stderr)' },
  'log-level': {
    type: 'string',
    description: 'log to stderr from this level: error, warn (default), info, debug, trace, off; per namespace as blip=trace,listener=debug (default $PEERSYNC_LOG_LEVEL)',
    valueName: 'LEVEL',
  },
  verbose: { type: 'boolean', description: 'log at debug level (same as --log-level debug)' },
  help: { type: 'boolean', short: 'h', description: 'show help for this command' },
};

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function parseCommandArgs(spec: CommandSpec, argv: string[]): { values: CommandContext['values']; positionals: string[] } {
  const options = { ...COMMON_OPTIONS, ...spec.options };
  const config: Record<string, NonNullable<ParseArgsConfig['options']>[string]> = {};
  for (const [k, o] of Object.entries(options)) {
    const { description: _d, valueName: _v, ...rest } = o;
    void _d;
    void _v;
    config[k] = rest;
  }
  try {
    const parsed = parseArgs({ args: argv, options: config, allowPositionals: true, strict: true });
    return { values: parsed.values as CommandContext['values'], positionals: parsed.positionals };
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split('\n')[0]} (see peersync ${spec.name} --help)`);
  }
}

export function helpText(spec: CommandSpec): string {
  const options = { ...spec.options, ...COMMON_OPTIONS };
  const rows = Object.entries(options).map(([k, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${k}${o.type === 'string' ? ` ${o.valueName ?? 'VALUE'}` : ''}`;
    return `  ${flag.padEnd(30)} ${o.description}`;
  });
  return [`Usage: peersync ${spec.name}${spec.args ? ` ${spec.args}` : ''} [options]`, '', spec.summary, ...(spec.details ? ['', spec.details] : []), '', 'Options:', ...rows].join('\n');
}
