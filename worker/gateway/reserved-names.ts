/**
 * Names a JavaScript object treats specially. As a row key or output column they would be dropped
 * (`row.__proto__ = v` sets the prototype) or shadow what every object inherits, so a select
 * alias, an output column or a body key spelled so is a 400 naming it, never silently dropped
 * (docs/protocol.md "Names the gateway refuses"). Pure.
 */
const RESERVED: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** The message shared by every place that refuses one. */
export const RESERVED_NAME_MESSAGE = 'cannot be used as a column name, key or alias';

export function isReservedName(name: string): boolean {
  return RESERVED.has(name);
}

/** The first own key of `value` (when it is a plain object) that is reserved. */
export function reservedKeyOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return Object.keys(value).find(isReservedName);
}
