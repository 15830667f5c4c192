/**
 * Flips bits of one byte to damage a file or frame on purpose. An index outside the buffer
 * throws: writing there would be silently ignored, and the test would pass without corrupting
 * anything.
 */
export function flipBits(bytes: Uint8Array, index: number, mask: number): void {
  const byte = bytes[index];
  if (byte === undefined) throw new RangeError(`cannot corrupt byte ${index} of ${bytes.length}`);
  bytes[index] = byte ^ mask;
}
