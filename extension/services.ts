/** What command handlers work with: the context plus the extension's long-lived parts. */
import type { Credentials } from './credentials';
import type { Ctx } from './ctx';
import type { PeerSyncFileSystem } from './documents/file-system';
import type { CertificateContentProvider } from './documents/read-only-providers';
import type { SchemaDiagnostics } from './documents/schema-diagnostics';
import type { RemotePeers } from './remote-peers';
import type { StatusBar } from './status-bar';
import type { ConflictsView } from './views/conflicts-view';
import type { DatabasesView } from './views/databases-view';
import type { PeersView } from './views/peers-view';
import type { ReplicationsView } from './views/replications-view';
import type { ResolvedConflictsView } from './views/resolved-conflicts-view';

export interface Services {
  readonly ctx: Ctx;
  readonly fs: PeerSyncFileSystem;
  /** Read-only `peersync-cert:` documents (Show Listener Certificate). */
  readonly certificates: CertificateContentProvider;
  readonly peers: RemotePeers;
  readonly credentials: Credentials;
  readonly statusBar: StatusBar;
  /** JSON Schema problems of open documents. */
  readonly schema: SchemaDiagnostics;
  readonly views: {
    readonly databases: DatabasesView;
    readonly peers: PeersView;
    readonly replications: ReplicationsView;
    readonly conflicts: ConflictsView;
    readonly resolvedConflicts: ResolvedConflictsView;
  };
}
