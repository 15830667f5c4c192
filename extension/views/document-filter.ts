/**
 * What the Databases view's filter box means: an ID prefix (`order-2024`), or a field condition in
 * the query language (`type = "list" AND qty > 2`) as soon as it compares or tests something.
 */
export type DocumentFilter = { readonly prefix: string } | { readonly where: string };

const CONDITION = /[=<>!]|\b(LIKE|IN|IS|BETWEEN|ANY|EVERY|NOT|AND|OR)\b/i;

export function parseDocumentFilter(text: string): DocumentFilter | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  return CONDITION.test(t) ? { where: t } : { prefix: t };
}

export function describeDocumentFilter(f: DocumentFilter): string {
  return 'prefix' in f ? `IDs starting with “${f.prefix}”` : `documents where ${f.where}`;
}
