import * as P from '../rpc/protocol';
import { RESULT_FORMATS, formatResults, type ResultFormat } from '../query/format-results';
import { withAppClient } from './app-client';
import { UsageError, type CommandContext, type CommandSpec } from './command';
import { plural } from './plural';
import { formatTable } from './result-table';

type OutputFormat = ResultFormat | 'table';

export const queryCommand: CommandSpec = {
  name: 'query',
  summary: 'Run a SQL++ SELECT over a collection (read-only).',
  args: '"SELECT …"',
  options: {
    param: { type: 'string', multiple: true, description: 'a value for $NAME in the query, as JSON (repeatable), e.g. --param min=10 --param type=\'"list"\'', valueName: 'NAME=JSON' },
    format: { type: 'string', description: 'table (default), jsonl, json or csv (--json is jsonl)', valueName: 'FORMAT' },
  },
  details: [
    'Example: peersync query "SELECT name, price FROM _ WHERE price > $min ORDER BY price DESC LIMIT 10" --param min=5',
    'Without LIMIT at most 1,000 rows come back (10,000 with any LIMIT); a note on stderr says when rows were left out.',
  ].join('\n'),
  async run(ctx) {
    const query = ctx.positionals[0];
    if (query === undefined) throw new UsageError('missing the query (usage: peersync query "SELECT …")');
    if (ctx.positionals.length > 1) throw new UsageError('give the query as one argument (quote it)');
    const format = formatOf(ctx);
    const parameters = parametersOf(ctx);
    await withAppClient(ctx.values, async (c) => {
      const result = await c.sendRequest(P.RunQuery, { db: c.db, query, parameters });
      if (format === 'table') {
        ctx.out.line(formatTable(result.columns, result.rows));
        ctx.out.line(`(${plural(result.rows.length, 'row')}, ${result.elapsedMs} ms)`);
      } else {
        process.stdout.write(formatResults(format, result));
      }
      if (result.truncated) process.stderr.write(`peersync: note: only the first ${plural(result.rows.length, 'row')} are shown; page with LIMIT and OFFSET\n`);
    });
  },
};

function formatOf(ctx: CommandContext): OutputFormat {
  const f = ctx.values.format;
  if (f === undefined) return ctx.values.json === true ? 'jsonl' : 'table';
  if (f === 'table' || RESULT_FORMATS.includes(f as ResultFormat)) return f as OutputFormat;
  throw new UsageError(`unknown --format ${JSON.stringify(f)} (one of table, ${RESULT_FORMATS.join(', ')})`);
}

function parametersOf(ctx: CommandContext): Record<string, unknown> {
  const parameters: Record<string, unknown> = {};
  for (const p of (ctx.values.param as string[] | undefined) ?? []) {
    const eq = p.indexOf('=');
    const name = (eq < 0 ? p : p.slice(0, eq)).replace(/^\$/, '');
    if (eq < 0 || !/^[A-Za-z0-9_]+$/.test(name)) throw new UsageError(`--param takes NAME=JSON, not ${JSON.stringify(p)}`);
    try {
      parameters[name] = JSON.parse(p.slice(eq + 1)) as unknown;
    } catch {
      throw new UsageError(`--param ${name}: the value is not JSON (a string needs its quotes: ${name}='"text"')`);
    }
  }
  return parameters;
}
