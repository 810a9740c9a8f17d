/** JSON text read without throwing: jsonb columns a driver hands back as text, and peers' answers. */
export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
