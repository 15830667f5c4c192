import { notFound } from './app-error';

/**
 * Entries by ID (`listener-3`, `replicator-7`): IDs are never reused, also across restarts, since
 * saved configuration and clients refer to them.
 */
export class IdRegistry<T> extends Map<string, T> {
  private next = 1;

  constructor(
    private readonly prefix: string,
    private readonly what: string,
    taken: Iterable<string> = [],
  ) {
    super();
    for (const id of taken) this.reserve(id);
  }

  /** A fresh ID. */
  allocate(): string {
    return `${this.prefix}-${this.next++}`;
  }

  /** The entry, or a NOT_FOUND error naming it. */
  require(id: string): T {
    const e = this.get(id);
    if (e === undefined) throw notFound(`no ${this.what} ${id}`);
    return e;
  }

  private reserve(id: string): void {
    const n = new RegExp(`^${this.prefix}-(\\d+)$`).exec(id)?.[1];
    if (n !== undefined) this.next = Math.max(this.next, Number(n) + 1);
  }
}
