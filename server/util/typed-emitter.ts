/**
 * A minimal typed event emitter. Unlike Node's EventEmitter, an 'error' event with no listener is
 * not thrown (a peer's protocol error must never crash the process), and a listener that throws
 * cannot corrupt the emitter's caller: the exception is re-raised on a microtask instead.
 */
export type EventMap = { [event: string]: unknown[] };

type ListenerSets<Events extends EventMap> = { [K in keyof Events]?: Set<(...args: Events[K]) => void> };

export class TypedEmitter<Events extends EventMap> {
  private readonly listeners: ListenerSets<Events> = {};

  /** Subscribes; returns a function that unsubscribes. */
  on<K extends keyof Events>(event: K, listener: (...args: Events[K]) => void): () => void {
    let set = this.listeners[event];
    if (!set) {
      set = new Set();
      this.listeners[event] = set;
    }
    set.add(listener);
    return () => this.off(event, listener);
  }

  once<K extends keyof Events>(event: K, listener: (...args: Events[K]) => void): () => void {
    const off = this.on(event, (...args: Events[K]) => {
      off();
      listener(...args);
    });
    return off;
  }

  off<K extends keyof Events>(event: K, listener: (...args: Events[K]) => void): void {
    this.listeners[event]?.delete(listener);
  }

  listenerCount<K extends keyof Events>(event: K): number {
    return this.listeners[event]?.size ?? 0;
  }

  protected emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    const set = this.listeners[event];
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(...args);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
