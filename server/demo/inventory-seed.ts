import type { Database, JsonObject } from '../store';

/** The tutorial's inventory list: one `list` document whose items carry an image blob. */
export const INVENTORY_DOC_ID = 'list';

function fruitSvg(color: string, leaf: string): Buffer {
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64"><circle cx="32" cy="36" r="24" fill="${color}"/><ellipse cx="40" cy="10" rx="10" ry="5" fill="${leaf}"/></svg>`,
    'utf8',
  );
}

/** Seeds the inventory list (with real image blobs) unless the database already has it. Returns true if seeded. */
export function seedInventory(db: Database): boolean {
  const coll = db.defaultCollection;
  if (coll.get(INVENTORY_DOC_ID, { includeDeleted: true })) return false;
  const apple = db.saveBlob(fruitSvg('#d62d20', '#3c8d2f'), 'image/svg+xml');
  const orange = db.saveBlob(fruitSvg('#ffa500', '#3c8d2f'), 'image/svg+xml');
  const body: JsonObject = {
    type: 'list',
    list: [
      { image: { ...apple }, value: 10, key: 'Apples' },
      { image: { ...orange }, value: 110, key: 'oranges' },
    ],
  };
  coll.save({ id: INVENTORY_DOC_ID, body });
  return true;
}
