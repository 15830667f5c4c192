import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Outbox, type Schedulable } from '../../../server/blip/outbox';

interface Item extends Schedulable {
  readonly name: string;
}

/** "N1" = normal started, "n1" = normal not started, "U1"/"u1" likewise for urgent. */
function item(name: string): Item {
  const urgent = name[0]?.toLowerCase() === 'u';
  const started = name[0] === name[0]?.toUpperCase();
  return { name, urgent, started };
}

/**
 * An outbox holding exactly `names` in that order. Items are appended while flagged normal (which
 * always appends) and get their real urgency afterwards: the outbox only consults urgency when
 * inserting. (So hasUrgent(), which counts urgent items as they come and go, is tested without it.)
 */
function queue(...names: string[]): Outbox<Item> {
  const outbox = new Outbox<Item>();
  for (const name of names) {
    const it: { -readonly [K in keyof Item]: Item[K] } = { ...item(name) };
    const urgent = it.urgent;
    it.urgent = false;
    outbox.enqueue(it);
    it.urgent = urgent;
  }
  return outbox;
}

function names(outbox: Outbox<Item>): string[] {
  return outbox.toArray().map((i) => i.name);
}

describe('outbox scheduling', () => {
  it('appends normal messages (round robin)', () => {
    const outbox = queue('N1', 'N2');
    outbox.enqueue(item('n3'));
    assert.deepStrictEqual(names(outbox), ['N1', 'N2', 'n3']);
    const head = outbox.shift() as Item;
    outbox.enqueue(head);
    assert.deepStrictEqual(names(outbox), ['N2', 'n3', 'N1']);
  });

  it('puts an urgent message into an empty or single-item queue at the end', () => {
    const empty = queue();
    empty.enqueue(item('U1'));
    assert.deepStrictEqual(names(empty), ['U1']);
    const single = queue('N1');
    single.enqueue(item('U1'));
    assert.deepStrictEqual(names(single), ['N1', 'U1']);
  });

  it('with no urgent message queued, puts an urgent one right after the first normal one', () => {
    const outbox = queue('N1', 'N2', 'N3');
    outbox.enqueue(item('U1'));
    assert.deepStrictEqual(names(outbox), ['N1', 'U1', 'N2', 'N3']);
  });

  it('puts an urgent message after the last urgent one, leaving one normal message in between', () => {
    const outbox = queue('U1', 'N1', 'N2', 'N3');
    outbox.enqueue(item('U2'));
    assert.deepStrictEqual(names(outbox), ['U1', 'N1', 'U2', 'N2', 'N3']);
  });

  it('puts an urgent message directly after the last urgent one when nothing follows it', () => {
    const outbox = queue('N1', 'U1');
    outbox.enqueue(item('U2'));
    assert.deepStrictEqual(names(outbox), ['N1', 'U1', 'U2']);
  });

  it('never lets a new urgent message overtake a message that has not started', () => {
    const outbox = queue('N1', 'n2', 'N3');
    outbox.enqueue(item('u4'));
    assert.deepStrictEqual(names(outbox), ['N1', 'n2', 'u4', 'N3']);
    const tail = queue('N1', 'N2', 'n3');
    tail.enqueue(item('u4'));
    assert.deepStrictEqual(names(tail), ['N1', 'N2', 'n3', 'u4']);
  });

  it('lets an already-started urgent message move ahead of unstarted ones', () => {
    const outbox = queue('N1', 'n2', 'n3');
    outbox.enqueue(item('U0'));
    assert.deepStrictEqual(names(outbox), ['N1', 'U0', 'n2', 'n3']);
  });

  it('alternates urgent and normal frames so neither starves', () => {
    const outbox = queue('N1');
    outbox.enqueue(item('U1'));
    const order: string[] = [];
    for (let turn = 0; turn < 6; turn++) {
      const head = outbox.shift() as Item;
      order.push(head.name);
      outbox.enqueue(head);
    }
    assert.deepStrictEqual(order, ['N1', 'U1', 'N1', 'U1', 'N1', 'U1']);
  });

  it('reports whether anything urgent is waiting, as items come and go', () => {
    const outbox = new Outbox<Item>();
    outbox.enqueue(item('N1'));
    outbox.enqueue(item('N2'));
    assert.equal(outbox.hasUrgent(), false);
    outbox.enqueue(item('U3'));
    outbox.enqueue(item('u4'));
    assert.deepStrictEqual(names(outbox), ['N1', 'U3', 'N2', 'u4']);
    assert.equal(outbox.hasUrgent(), true);
    outbox.shift();
    outbox.shift();
    assert.equal(outbox.hasUrgent(), true, 'u4 still waits');
    outbox.shift();
    outbox.shift();
    assert.equal(outbox.hasUrgent(), false);
    outbox.enqueue(item('U5'));
    outbox.clear();
    assert.equal(outbox.hasUrgent(), false);
  });
});
