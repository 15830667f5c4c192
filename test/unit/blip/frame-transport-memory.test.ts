import { createMemoryTransportPair } from '../../../server/blip/memory-transport';
import { frameTransportSuite } from '../../kits/frame-transport-suite';

frameTransportSuite('in-memory pair', async () => {
  const [a, b] = createMemoryTransportPair();
  return { a, b, sendTextFromA: (text) => a.sendText(text) };
});
