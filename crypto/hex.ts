/** Lower-case hex and back, for digests, MACs and key tags. */

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  // Key tags are hexed on every authenticated request: a table lookup per byte, no per-byte closures.
  let hex = '';
  for (const b of bytes) hex += HEX[b];
  return hex;
}

/** The bytes of an even-length hex string, or undefined when it is not one. */
export function fromHex(hex: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^(?:[0-9a-f]{2})+$/i.test(hex)) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}
