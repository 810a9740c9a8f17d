/** `keys create|list|revoke`: API keys. The plaintext is printed once, at creation. */
import { z } from 'zod';
import { OPERATIONS, type Operation } from '../../drizzle/schema.js';
import { chosenRateLimit, clientName, rateLimitText } from '../args.js';
import { helpText, parseCommand, switchFlag, valueFlag } from '../flags.js';
import { withCatalog, type Command } from '../context.js';
import { parseDuration } from '../duration.js';
import { UsageError } from '../errors.js';
import { createKey, listKeys, revokeKey, setKeyRateLimit } from '../../catalog/key-store.js';
import { json, keyTable, keyView, rateLimitView } from '../output.js';
import { resolveDatabaseUrl, resolveSigningSecrets } from '../database-url.js';
import { redactUrl } from '../../catalog/redact.js';

/** `name`, `schema.name`, `schema.*` or `*`: the entry forms the worker's scope check reads (docs/auth.md). */
const SCOPE_ENTRY = /^(\*|[A-Za-z_][A-Za-z0-9_$]*(\.([A-Za-z_][A-Za-z0-9_$]*|\*))?)$/;

const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

const operations = z
  .string()
  .transform(list)
  .pipe(z.array(z.string()).min(1, 'needs at least one operation'))
  .transform((ops, ctx): Operation[] => {
    if (ops.length === 1 && (ops[0] === 'all' || ops[0] === '*')) return [...OPERATIONS];
    const bad = ops.find((o) => !(OPERATIONS as readonly string[]).includes(o));
    if (bad !== undefined) {
      ctx.addIssue({ code: 'custom', message: `unknown operation "${bad}" (use ${OPERATIONS.join(', ')} or all)` });
      return z.NEVER;
    }
    return OPERATIONS.filter((o) => ops.includes(o));
  });

const tables = z
  .string()
  .transform(list)
  .pipe(z.array(z.string()).min(1, 'needs at least one table or *'))
  .refine((ts) => ts.every((t) => SCOPE_ENTRY.test(t)), 'tables are names like todos, public.todos, app.* or *')
  .transform((ts) => (ts.includes('*') ? ['*'] : [...new Set(ts)]));

const functions = z
  .string()
  .transform(list)
  .pipe(z.array(z.string()).min(1, 'needs at least one function or *'))
  .refine((fs) => fs.every((f) => SCOPE_ENTRY.test(f)), 'functions are names like add, app.add, app.* or *')
  .transform((fs) => (fs.includes('*') ? ['*'] : [...new Set(fs)]));

const expiresIn = z.string().transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms !== undefined) return ms;
  ctx.addIssue({ code: 'custom', message: 'use a duration like 90m, 12h, 30d or 2w' });
  return z.NEVER;
});

const none = z.array(z.string()).max(0, 'takes no positional arguments');
const oneKey = z
  .array(z.string())
  .length(1, 'expects exactly one key prefix, id or key')
  .transform((a) => a[0] ?? '');

const createSpec = {
  helpCommand: 'keys create --help',
  positionals: z.array(z.string()).max(0, 'takes no positional arguments (use --client and --name)'),
  flags: {
    client: valueFlag('<name>', 'the client the key belongs to (required)', clientName),
    name: valueFlag(
      '<label>',
      "a label, unique among the client's live keys (required)",
      z.string().trim().min(1, 'must not be empty').max(100, 'at most 100 characters'),
    ),
    scopes: valueFlag('<ops>', 'comma list of read, insert, update, delete, rpc, or "all" (default: read)', operations.default(['read'])),
    tables: valueFlag(
      '<tables>',
      'comma list of table, schema.table, schema.* (every table of that schema),\nor "*" for every table (default: *)',
      tables.default(['*']),
    ),
    functions: valueFlag('<fns>', 'functions the rpc scope may call: fn, schema.fn, schema.* or "*" (default: none)', functions.optional()),
    'expires-in': valueFlag('<dur>', 'e.g. 90m, 12h, 30d, 2w (default: never)', expiresIn.optional()),
    'expires-at': valueFlag(
      '<time>',
      'an ISO 8601 time instead of --expires-in',
      z.iso.datetime({ offset: true, message: 'use an ISO 8601 time like 2030-01-31T00:00:00Z' }).optional(),
    ),
    'rate-limit': valueFlag(
      '<n/period>',
      "the key's own limit, e.g. 100/10s or 600/1m (periods 1s to 60s;\ndefault: none, its client's default applies)",
      rateLimitText.optional(),
    ),
    block: switchFlag('create it blocked (a limit of 0: every request is refused with 429)'),
    legacy: switchFlag('mint an untagged key (only for workers without KEY_SIGNING_SECRETS)'),
    json: switchFlag('print the key and its row as JSON'),
  },
};

const listSpec = {
  helpCommand: 'keys list --help',
  positionals: none,
  flags: {
    client: valueFlag('<name>', "only this client's keys", clientName.optional()),
    all: switchFlag('include revoked keys'),
    json: switchFlag('print the keys as JSON'),
  },
};

const revokeSpec = { helpCommand: 'keys revoke --help', positionals: oneKey, flags: { json: switchFlag('print the key as JSON') } };

const setSpec = {
  helpCommand: 'keys set --help',
  positionals: oneKey,
  flags: {
    'rate-limit': valueFlag('<n/period|none>', 'e.g. 100/10s or 600/1m (periods 1s to 60s); none removes it', rateLimitText.optional()),
    block: switchFlag('refuse every request (a limit of 0, which needs this flag)'),
    json: switchFlag('print the key as JSON'),
  },
};

export const keysCreate: Command = {
  summary: 'create an API key (printed once)',
  help: helpText({
    usage: 'npm run gateway -- keys create --client <name> --name <label> [flags]',
    about: 'Creates an API key and prints it once; only its SHA-256 hash is stored.',
    flags: createSpec.flags,
    notes: `The key is tagged with the first of KEY_SIGNING_SECRETS (the worker's secret; read from the
environment, else from the dev stack's .dev.vars — only while the catalog is the dev stack's), so
the worker refuses forged keys offline. The output says where the catalog and the secret came from.`,
  }),
  async run(argv, ctx) {
    const help = createSpec.helpCommand;
    const a = parseCommand(argv, createSpec);
    if (a.expiresIn !== undefined && a.expiresAt !== undefined) throw new UsageError('--expires-at: give --expires-in or --expires-at, not both', help);
    const rateLimit = chosenRateLimit(a.rateLimit, a.block, help) ?? null;
    const expiresAt = a.expiresIn !== undefined ? new Date(Date.now() + a.expiresIn) : a.expiresAt ? new Date(a.expiresAt) : null;
    if (expiresAt && expiresAt.getTime() <= Date.now()) throw new UsageError('--expires-at: must be in the future', help);
    const signing = a.legacy ? { secrets: [], source: undefined } : resolveSigningSecrets(ctx.env, ctx.cwd);
    if (!a.legacy && signing.secrets.length === 0) {
      const why = 'refused' in signing ? `KEY_SIGNING_SECRETS is not set, and ${signing.refused}` : 'KEY_SIGNING_SECRETS is not set';
      throw new UsageError(`${why}: export the key-signing secret of the worker that serves this catalog (or pass --legacy for an untagged key)`, help);
    }
    const catalog = resolveDatabaseUrl(ctx.env, ctx.cwd);
    const created = await withCatalog(ctx, (db) =>
      createKey(db, {
        client: a.client,
        name: a.name,
        scopes: { operations: a.scopes, tables: a.tables, ...(a.functions ? { functions: a.functions } : {}) },
        expiresAt,
        signingSecrets: signing.secrets,
        rateLimit,
      }),
    );
    const sources = { catalog: catalog.source, keySigningSecrets: signing.source ?? null };
    if (a.json) {
      ctx.print(json({ key: created.key, ...keyView(created), sources }));
      return;
    }
    ctx.print(
      [
        `created key ${created.prefix} for client ${created.client} (${created.scopes.operations.join(',')} on ${created.scopes.tables.join(',')}${created.scopes.functions ? `, functions ${created.scopes.functions.join(',')}` : ''}, expires ${created.expiresAt?.toISOString() ?? 'never'}, rate limit ${rateLimitView(created.rateLimitRequests, created.rateLimitPeriodS)})`,
        '',
        `  ${created.key}`,
        '',
        'Store it now: it is shown only once (only its SHA-256 hash is kept).',
        `Catalog ${redactUrl(catalog.url)} from ${catalog.source}; ${signing.source ? `tagged with the first key-signing secret from ${signing.source}` : 'untagged (--legacy)'}.`,
      ].join('\n'),
    );
  },
};

export const keysList: Command = {
  summary: 'list keys (never their hashes)',
  help: helpText({
    usage: 'npm run gateway -- keys list [--client <name>] [--all] [--json]',
    about: 'Lists live keys (prefix, scopes, expiry, last use); --all includes revoked ones. Hashes are never shown.',
    flags: listSpec.flags,
  }),
  async run(argv, ctx) {
    const a = parseCommand(argv, listSpec);
    const rows = await withCatalog(ctx, (db) => listKeys(db, { client: a.client, includeRevoked: a.all }));
    ctx.print(a.json ? json(rows.map(keyView)) : keyTable(rows));
  },
};

export const keysRevoke: Command = {
  summary: 'revoke a key by prefix, id or key',
  help: helpText({
    usage: 'npm run gateway -- keys revoke <prefix|id|key> [--json]',
    about: `Revokes a key, named by its prefix (ath_xxxxxxxxxx), its id, or the whole key. Revoking twice is
harmless. Every isolate stops accepting it within AUTH_CHANGE_BOUND_MS (2 s; AUTH_CACHE_TTL_MS while
the catalog's changes cannot be read). With --json: "revoked": true
(the key is revoked now) and "alreadyRevoked": true when it already was (this call changed nothing).`,
    flags: revokeSpec.flags,
  }),
  async run(argv, ctx) {
    const a = parseCommand(argv, revokeSpec);
    const r = await withCatalog(ctx, (db) => revokeKey(db, a.positionals));
    // `revoked` is the key's state after the call (always true); `alreadyRevoked` says this call changed nothing.
    if (a.json) ctx.print(json({ revoked: true, alreadyRevoked: r.alreadyRevoked, ...keyView(r.key) }));
    else
      ctx.print(
        r.alreadyRevoked
          ? `key ${r.key.prefix} was already revoked at ${r.key.revokedAt?.toISOString() ?? '?'}`
          : `revoked key ${r.key.prefix} (${r.key.client}/${r.key.name})`,
      );
  },
};

export const keysSet: Command = {
  summary: "change a key's rate limit",
  help: helpText({
    usage: 'npm run gateway -- keys set <prefix|id|key> (--rate-limit <n/period|none> | --block) [--json]',
    about: `Changes a key's own rate limit: e.g. 100/10s or 600/1m (periods 1s to 60s); none removes it (the
client's default then applies); --block refuses every request (a limit of 0, which needs this flag).
The worker picks up the change within AUTH_CHANGE_BOUND_MS (2 s; AUTH_CACHE_TTL_MS while the catalog's
changes cannot be read).`,
    flags: setSpec.flags,
  }),
  async run(argv, ctx) {
    const help = setSpec.helpCommand;
    const a = parseCommand(argv, setSpec);
    const limit = chosenRateLimit(a.rateLimit, a.block, help);
    if (limit === undefined) throw new UsageError('nothing to change: give --rate-limit <n/period|none> or --block', help);
    const key = await withCatalog(ctx, (db) => setKeyRateLimit(db, a.positionals, limit));
    const view = keyView(key);
    ctx.print(a.json ? json(view) : `key ${key.prefix} (${key.client}/${key.name}): rate limit ${view.rateLimit}`);
  },
};
