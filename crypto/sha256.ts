/**
 * SHA-256 (FIPS 180-4) of a string's UTF-8 bytes, as lower-case hex, synchronously. The worker
 * hashes the presented API key on every authenticated request; in workerd a call into the native
 * digest (WebCrypto, or `node:crypto`) costs several times the hash of an 80-byte key itself, and
 * the WebCrypto one adds a promise. Same function, checked against `node:crypto` in
 * test/unit/sha256.test.ts. Keys are ASCII: they are read from their char codes, with no copy.
 */

const K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74,
  0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d,
  0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e,
  0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5,
  0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const IV = Int32Array.from([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
const HEX_CODES = Array.from('0123456789abcdef', (ch) => ch.charCodeAt(0));
const ENCODER = new TextEncoder();

// Scratch state, reused: the hash runs to completion before anything else can touch it.
const w = new Int32Array(64);
const h = new Int32Array(8);
/** The hex digits' char codes: one `String.fromCharCode` makes a flat string (no chain of 32 concatenations). */
const hexOut: number[] = new Array<number>(64).fill(0);

/** Lower-case hex SHA-256 of the UTF-8 bytes of `text`. */
export function sha256Hex(text: string): string {
  // ASCII (every key) is its own UTF-8: read straight from its char codes. Anything else is
  // encoded first and read back as one char per byte.
  if (!digest(text, 0x7f)) digest(charPerByte(ENCODER.encode(text)), 0xff);
  for (let i = 0; i < 8; i++) {
    const v = h[i] as number;
    for (let j = 0; j < 8; j++) hexOut[i * 8 + j] = HEX_CODES[(v >>> (28 - j * 4)) & 15] as number;
  }
  return String.fromCharCode.apply(null, hexOut);
}

/**
 * Digests the char codes of `message` as its bytes into `h`: false (and `h` unusable) at the first
 * code above `maxCode`. Padding: 0x80, zeros, and the bit length in the last 8 bytes of the last block.
 */
function digest(message: string, maxCode: number): boolean {
  const len = message.length;
  const total = (((len + 8) >> 6) + 1) << 6;
  h.set(IV);
  for (let off = 0; off < total; off += 64) {
    for (let i = 0; i < 16; i++) {
      let word = 0;
      for (let j = 0; j < 4; j++) {
        const p = off + i * 4 + j;
        let c = p === len ? 0x80 : 0;
        if (p < len) {
          c = message.charCodeAt(p);
          if (c > maxCode) return false;
        }
        word = (word << 8) | c;
      }
      w[i] = word;
    }
    if (off + 64 === total) w[15] = len * 8; // below 2^32: strings of that size cannot exist here
    compress();
  }
  return true;
}

/** `bytes` as a string of one char (0–255) per byte, built in chunks (`apply` takes a bounded argument list). */
function charPerByte(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192) as unknown as number[]);
  return out;
}

/** The block in `w[0..15]` into `h`. Index reads are in range by construction. */
function compress(): void {
  for (let i = 16; i < 64; i++) {
    const x = w[i - 15] as number;
    const y = w[i - 2] as number;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[i] = ((w[i - 16] as number) + s0 + (w[i - 7] as number) + s1) | 0;
  }
  let a = h[0] as number,
    b = h[1] as number,
    c = h[2] as number,
    d = h[3] as number;
  let e = h[4] as number,
    f = h[5] as number,
    g = h[6] as number,
    k = h[7] as number;
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (k + s1 + ((e & f) ^ (~e & g)) + (K[i] as number) + (w[i] as number)) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    k = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  h[0] = ((h[0] as number) + a) | 0;
  h[1] = ((h[1] as number) + b) | 0;
  h[2] = ((h[2] as number) + c) | 0;
  h[3] = ((h[3] as number) + d) | 0;
  h[4] = ((h[4] as number) + e) | 0;
  h[5] = ((h[5] as number) + f) | 0;
  h[6] = ((h[6] as number) + g) | 0;
  h[7] = ((h[7] as number) + k) | 0;
}
