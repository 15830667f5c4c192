/**
 * The Start Replication step that chooses how the replicator settles conflicts. `manual` is the
 * only one that leaves them for a person (the Conflicts view); every other resolution is recorded
 * (the Resolved Conflicts view), so a discarded branch can still be brought back.
 */
import type * as P from '../../server/rpc/protocol';
import { settings } from '../config';
import type { Services } from '../services';
import { pick, type Picked } from './pickers';

export const RESOLVER_CHOICES: readonly { readonly name: P.BuiltInResolverName; readonly label: string; readonly description: string }[] = [
  { name: 'default', label: 'Default', description: 'Couchbase Lite’s rule: a deletion wins, else the longer history' },
  { name: 'localWins', label: 'Local wins', description: 'keep this database’s revision' },
  { name: 'remoteWins', label: 'Remote wins', description: 'keep the peer’s revision' },
  { name: 'merge', label: 'Merge', description: 'combine the keys of both; the remote value wins on shared keys' },
  { name: 'mergePreferLocal', label: 'Merge (prefer local)', description: 'combine the keys of both; the local value wins on shared keys' },
  { name: 'manual', label: 'Manual', description: 'keep conflicts for me to resolve in the Conflicts view' },
];

/** The resolver chosen (the `peersync.defaultResolver` setting comes first, pre-selected); undefined when cancelled. */
export async function pickResolver(s: Services, title = 'Start Replication: conflicts'): Promise<P.BuiltInResolverName | undefined> {
  const preferred = settings.defaultResolver();
  const items: Picked<P.BuiltInResolverName>[] = RESOLVER_CHOICES.map((c) => ({
    label: c.label,
    description: c.name === preferred ? `${c.description} (default setting)` : c.description,
    picked: c.name === preferred,
    value: c.name,
  }));
  // Quick picks select their first item: put the preferred one there.
  items.sort((a, b) => Number(b.value === preferred) - Number(a.value === preferred));
  return pick(s, title, items, 'How should conflicts be resolved?');
}
