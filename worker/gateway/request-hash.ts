/**
 * The hash an `idempotency_key` is checked against: SHA-256 of a canonical JSON text (object keys
 * sorted, so key order does not matter). Built with an explicit stack, never recursion, and bounded
 * in depth and size. Every transaction body is checked against these bounds, with or without an
 * idempotency key, so both get the same 400 for a body nested too deeply.
 */

export type CanonicalLimits = { maxDepth: number; maxNodes: number };

/** Far deeper than any real body; binding a value nested about 10,000 deep already hangs the driver's session. */
const CANONICAL_LIMITS: CanonicalLimits = { maxDepth: 1000, maxNodes: 1_000_000 };

/** Text emitted as-is, or a value still to render at its depth. */
type Work = string | { value: unknown; depth: number };

/** The canonical JSON text of a parsed JSON value; undefined past `limits`. */
export function canonicalJson(value: unknown, limits: CanonicalLimits = CANONICAL_LIMITS): string | undefined {
  const out: string[] = [];
  const stack: Work[] = [{ value, depth: 0 }];
  let nodes = 0;
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    if (typeof item === 'string') {
      out.push(item);
      continue;
    }
    if (++nodes > limits.maxNodes || item.depth > limits.maxDepth) return undefined;
    const { value: v, depth } = item;
    if (Array.isArray(v)) {
      out.push('[');
      stack.push(']');
      for (let i = v.length - 1; i >= 0; i--) {
        stack.push({ value: v[i], depth: depth + 1 });
        if (i > 0) stack.push(',');
      }
    } else if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>)
        .filter(([, x]) => x !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      out.push('{');
      stack.push('}');
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, x] = entries[i] as [string, unknown];
        stack.push({ value: x, depth: depth + 1 }, `${JSON.stringify(k)}:`);
        if (i > 0) stack.push(',');
      }
    } else {
      out.push(JSON.stringify(v) ?? 'null');
    }
  }
  return out.join('');
}

/** SHA-256 hex of a canonical text. */
export async function requestHash(canonical: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonical));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
