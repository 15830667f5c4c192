import { relative } from 'node:path';
import { seedInventory, INVENTORY_DOC_ID } from '../demo/inventory-seed';
import { SyncServer } from '../sync-server';
import type { CommandSpec } from './command';
import { dbPathFrom } from './open-db';

export const serveCommand: CommandSpec = {
  name: 'serve',
  summary: 'Run the headless sync server on a database (created if missing) until interrupted.',
  options: { demo: { type: 'boolean', description: "seed the tutorial's inventory list if the database is new" } },
  async run(ctx) {
    const path = dbPathFrom(ctx.values);
    const server = new SyncServer({
      info: (m) => process.stderr.write(`peersync: ${m}\n`),
      warn: (m) => process.stderr.write(`peersync: warning: ${m}\n`),
    });
    const db = await server.openDatabase(path);
    const seeded = ctx.values.demo === true && seedInventory(db);
    const shown = relative(process.cwd(), path) || '.';
    const info = db.info();
    if (ctx.out.json) {
      ctx.out.result({ event: 'ready', ...info, seeded });
    } else {
      ctx.out.line(
        [
          'PeerSync server running',
          `  database   ${info.path}`,
          `  uuid       ${info.uuid}`,
          ...info.collections.map((c) => `  ${c.name.padEnd(10)} ${c.documents} documents`),
          ...(seeded ? [`  seeded     the inventory list as document "${INVENTORY_DOC_ID}"`] : []),
          '',
          'The server holds the database open (other processes are refused while it runs).',
          'Stop it with Ctrl+C, then inspect the data with the CLI, e.g.:',
          `  npx peersync db get ${INVENTORY_DOC_ID} --db ${shown}`,
          `  npx peersync db ls --db ${shown}`,
          `  npx peersync db history ${INVENTORY_DOC_ID} --db ${shown}`,
        ].join('\n'),
      );
    }
    await new Promise<void>((resolveStop) => {
      const stop = (signal: NodeJS.Signals): void => {
        process.stderr.write(`peersync: ${signal}, shutting down\n`);
        resolveStop();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.shutdown();
  },
};
