/**
 * Which transport reaches a target: `DB_TRANSPORT` names the default and, after commas, targets
 * that use another one, as `host:port/database=ws|http` (the target's label, as `status` shows it),
 * e.g. `http,pg.internal:5432/app=ws`: an operator falls back for one database without moving the
 * others. Pure: parsed once with the settings.
 */
export type Transport = 'http' | 'ws';

export type TransportChoice = { default: Transport; targets: Readonly<Record<string, Transport>> };

const TRANSPORTS: readonly string[] = ['http', 'ws'];

/** The default when `DB_TRANSPORT` is unset. */
export const HTTP_EVERYWHERE: TransportChoice = Object.freeze({ default: 'http', targets: Object.freeze({}) });
const TARGET = /^[^\s=,/]+:\d{1,5}\/[^\s=,]+$/;

/** The choice `text` states, or why it states none. */
export function parseTransport(text: string): TransportChoice | { problem: string } {
  const [first = '', ...rest] = text.split(',').map((part) => part.trim());
  if (!TRANSPORTS.includes(first)) return { problem: 'must start with http or ws' };
  const targets: Record<string, Transport> = {};
  for (const entry of rest) {
    const at = entry.lastIndexOf('=');
    const label = entry.slice(0, at);
    const transport = entry.slice(at + 1);
    if (at < 0 || !TARGET.test(label) || !TRANSPORTS.includes(transport)) return { problem: `"${entry}" is not host:port/database=http|ws` };
    if (label in targets) return { problem: `${label} is named twice` };
    targets[label] = transport as Transport;
  }
  return { default: first as Transport, targets };
}

/** The transport of a session on the target labelled `label`; one that holds a transaction open is a WebSocket session. */
export function transportFor(choice: TransportChoice, label: string, interactive: boolean): Transport {
  if (interactive) return 'ws';
  return Object.hasOwn(choice.targets, label) ? (choice.targets[label] as Transport) : choice.default;
}
