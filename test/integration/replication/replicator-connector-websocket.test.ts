import { Listener } from '../../../server/listener/listener';
import { createWebSocketConnector } from '../../../server/replication/websocket-connector';
import { withTimeout } from '../../helpers/wait';
import { replicatorConnectorSuite } from '../../kits/replicator-connector-suite';
import { closedPort } from '../transport/helpers';

replicatorConnectorSuite('WebSocket to a loopback listener', async (t, peer) => {
  if (!peer) return createWebSocketConnector(`ws://127.0.0.1:${await closedPort()}/absent`, {});
  const listener = new Listener({ database: peer, networkInterface: '127.0.0.1', port: 0, disableTLS: true });
  await withTimeout(listener.start(), 'the listener to start');
  t.after(() => listener.stop());
  return createWebSocketConnector(listener.urls[0]!, {});
});
