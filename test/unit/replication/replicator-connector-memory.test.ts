import { createMemoryConnector } from '../../../server/replication/memory-connector';
import { openTempDb } from '../../helpers/open-db';
import { replicatorConnectorSuite } from '../../kits/replicator-connector-suite';

replicatorConnectorSuite('in-memory', async (t, peer) => {
  if (peer) return createMemoryConnector({ database: peer });
  const { db: absent } = await openTempDb(t);
  const connector = createMemoryConnector({ database: absent });
  connector.unreachable = true;
  return connector;
});
