/** Counts in English: "1 document", "2 documents" (pure, shared with the webviews). */
export function plural(n: number, word: string, pluralWord = `${word}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? word : pluralWord}`;
}
