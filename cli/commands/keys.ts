/** `keys create|list|revoke`: API keys. The plaintext is printed once, at creation. */
import { z } from 'zod';
import { OPERATIONS, type Operation } from '../../drizzle/schema.js';
import { chosenRateLimit, clientName, parseFlags, rateLimitText, validate } from '../args.js';
import { withCatalog, type Command } from '../context.js';
import { parseDuration } from '../duration.js';
import { UsageError } from '../errors.js';
import { createKey, listKeys, revokeKey, setKeyRateLimit } from '../key-store.js';
import { json, keyTable, keyView, rateLimitView } from '../output.js';
import { resolveSigningSecrets } from '../database-url.js';

const CREATE_HELP = `Usage: npm run gateway -- keys create --client <name> --name <label> [flags]

Creates an API key and prints it once; only its SHA-256 hash is stored. Flags:
  --client <name>        the client the key belongs to (required)
  --name <label>         a label, unique among the client's live keys (required)
  --scopes <ops>         comma list of read, insert, update, delete, rpc, or "all" (default: read)
  --tables <tables>      comma list of table or schema.table, or "*" for every table (default: *)
  --functions <fns>      functions the rpc scope may call: fn, schema.fn, schema.* or "*" (default: none)
  --expires-in <dur>     e.g. 90m, 12h, 30d, 2w (default: never)
  --expires-at <time>    an ISO 8601 time instead of --expires-in
  --rate-limit <n/period> the key's own limit, e.g. 100/10s or 600/1m (periods 1s to 60s;
                         default: none, its client's default applies)
  --block                create it blocked (a limit of 0: every request is refused with 429)
  --legacy               mint an untagged key (only for workers without KEY_SIGNING_SECRETS)
  --json                 print the key and its row as JSON

The key is tagged with the first of KEY_SIGNING_SECRETS (the worker's secret; read from the
environment, else from the dev stack's .dev.vars), so the worker refuses forged keys offline.`;

const LIST_HELP = `Usage: npm run gateway -- keys list [--client <name>] [--all] [--json]

Lists live keys (prefix, scopes, expiry, last use); --all includes revoked ones. Hashes are never shown.`;

const REVOKE_HELP = `Usage: npm run gateway -- keys revoke <prefix|id|key> [--json]

Revokes a key, named by its prefix (ath_xxxxxxxxxx), its id, or the whole key. Revoking twice is
harmless. The worker stops accepting it within AUTH_CACHE_TTL_MS.`;

const SET_HELP = `Usage: npm run gateway -- keys set <prefix|id|key> (--rate-limit <n/period|none> | --block) [--json]

Changes a key's own rate limit: e.g. 100/10s or 600/1m (periods 1s to 60s); none removes it (the
client's default then applies); --block refuses every request (a limit of 0, which needs this flag).
The worker picks up the change within AUTH_CACHE_TTL_MS.`;

const TABLE = /^(\*|[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?)$/;

const list = (v: string) => v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);

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
  .refine((ts) => ts.every((t) => TABLE.test(t)), 'tables are names like todos or public.todos, or *')
  .transform((ts) => (ts.includes('*') ? ['*'] : [...new Set(ts)]));

const functions = z
  .string()
  .transform(list)
  .pipe(z.array(z.string()).min(1, 'needs at least one function or *'))
  .refine((fs) => fs.every((f) => TABLE.test(f) || /^[A-Za-z_][A-Za-z0-9_$]*\.\*$/.test(f)), 'functions are names like add, app.add, app.* or *')
  .transform((fs) => (fs.includes('*') ? ['*'] : [...new Set(fs)]));

const createSchema = z
  .object({
    positionals: z.array(z.string()).max(0, 'takes no positional arguments (use --client and --name)'),
    client: clientName,
    name: z.string().trim().min(1, 'must not be empty').max(100, 'at most 100 characters'),
    scopes: operations.default(['read']),
    tables: tables.default(['*']),
    functions: functions.optional(),
    expiresIn: z
      .string()
      .transform((v, ctx) => {
        const ms = parseDuration(v);
        if (ms !== undefined) return ms;
        ctx.addIssue({ code: 'custom', message: 'use a duration like 90m, 12h, 30d or 2w' });
        return z.NEVER;
      })
      .optional(),
    expiresAt: z.iso.datetime({ offset: true, message: 'use an ISO 8601 time like 2030-01-31T00:00:00Z' }).optional(),
    json: z.boolean().default(false),
    legacy: z.boolean().default(false),
    rateLimit: rateLimitText.optional(),
    block: z.boolean().optional(),
  })
  .refine((a) => !(a.expiresIn !== undefined && a.expiresAt !== undefined), { message: 'give --expires-in or --expires-at, not both', path: ['expiresAt'] });

export const keysCreate: Command = {
  summary: 'create an API key (printed once)',
  help: CREATE_HELP,
  async run(argv, ctx) {
    const help = 'keys create --help';
    const p = parseFlags(
      argv,
      {
        client: { type: 'string' },
        name: { type: 'string' },
        scopes: { type: 'string' },
        tables: { type: 'string' },
        functions: { type: 'string' },
        'expires-in': { type: 'string' },
        'expires-at': { type: 'string' },
        legacy: { type: 'boolean' },
        'rate-limit': { type: 'string' },
        block: { type: 'boolean' },
        json: { type: 'boolean' },
      },
      help,
    );
    const v = p.values;
    const a = validate(
      createSchema,
      { positionals: p.positionals, client: v.client, name: v.name, scopes: v.scopes, tables: v.tables, functions: v.functions, expiresIn: v['expires-in'], expiresAt: v['expires-at'], json: v.json, legacy: v.legacy, rateLimit: v['rate-limit'], block: v.block },
      help,
    );
    const rateLimit = chosenRateLimit(a.rateLimit, a.block, help) ?? null;
    const expiresAt = a.expiresIn !== undefined ? new Date(Date.now() + a.expiresIn) : a.expiresAt ? new Date(a.expiresAt) : null;
    if (expiresAt && expiresAt.getTime() <= Date.now()) throw new UsageError('--expires-at: must be in the future', help);
    const signingSecrets = a.legacy ? [] : resolveSigningSecrets(process.env, process.cwd());
    if (!a.legacy && signingSecrets.length === 0) {
      throw new UsageError('KEY_SIGNING_SECRETS is not set: export the worker\'s key-signing secret (or pass --legacy for an untagged key)', help);
    }
    const created = await withCatalog(ctx, (db) =>
      createKey(db, { client: a.client, name: a.name, scopes: { operations: a.scopes, tables: a.tables, ...(a.functions ? { functions: a.functions } : {}) }, expiresAt, signingSecrets, rateLimit }),
    );
    if (a.json) {
      ctx.print(json({ key: created.key, ...keyView(created) }));
      return;
    }
    ctx.print(
      [
        `created key ${created.prefix} for client ${created.client} (${created.scopes.operations.join(',')} on ${created.scopes.tables.join(',')}${created.scopes.functions ? `, functions ${created.scopes.functions.join(',')}` : ''}, expires ${created.expiresAt?.toISOString() ?? 'never'}, rate limit ${rateLimitView(created.rateLimitRequests, created.rateLimitPeriodS)})`,
        '',
        `  ${created.key}`,
        '',
        'Store it now: it is shown only once (only its SHA-256 hash is kept).',
      ].join('\n'),
    );
  },
};

export const keysList: Command = {
  summary: 'list keys (never their hashes)',
  help: LIST_HELP,
  async run(argv, ctx) {
    const help = 'keys list --help';
    const p = parseFlags(argv, { client: { type: 'string' }, all: { type: 'boolean' }, json: { type: 'boolean' } }, help);
    const a = validate(
      z.object({ positionals: z.array(z.string()).max(0, 'takes no positional arguments'), client: clientName.optional() }),
      { positionals: p.positionals, client: p.values.client },
      help,
    );
    const rows = await withCatalog(ctx, (db) => listKeys(db, { client: a.client, includeRevoked: p.values.all === true }));
    ctx.print(p.values.json ? json(rows.map(keyView)) : keyTable(rows));
  },
};

export const keysRevoke: Command = {
  summary: 'revoke a key by prefix, id or key',
  help: REVOKE_HELP,
  async run(argv, ctx) {
    const help = 'keys revoke --help';
    const p = parseFlags(argv, { json: { type: 'boolean' } }, help);
    const ref = p.positionals[0];
    if (ref === undefined || p.positionals.length !== 1) throw new UsageError('expects exactly one key prefix, id or key', help);
    const r = await withCatalog(ctx, (db) => revokeKey(db, ref));
    if (p.values.json) ctx.print(json({ revoked: !r.alreadyRevoked, ...keyView(r.key) }));
    else ctx.print(r.alreadyRevoked ? `key ${r.key.prefix} was already revoked at ${r.key.revokedAt?.toISOString() ?? '?'}` : `revoked key ${r.key.prefix} (${r.key.client}/${r.key.name})`);
  },
};

export const keysSet: Command = {
  summary: "change a key's rate limit",
  help: SET_HELP,
  async run(argv, ctx) {
    const help = 'keys set --help';
    const p = parseFlags(argv, { 'rate-limit': { type: 'string' }, block: { type: 'boolean' }, json: { type: 'boolean' } }, help);
    const a = validate(
      z.object({ positionals: z.array(z.string()).length(1, 'expects exactly one key prefix, id or key'), rateLimit: rateLimitText.optional(), block: z.boolean().optional() }),
      { positionals: p.positionals, rateLimit: p.values['rate-limit'], block: p.values.block },
      help,
    );
    const limit = chosenRateLimit(a.rateLimit, a.block, help);
    if (limit === undefined) throw new UsageError('nothing to change: give --rate-limit <n/period|none> or --block', help);
    const key = await withCatalog(ctx, (db) => setKeyRateLimit(db, a.positionals[0] ?? '', limit));
    const view = keyView(key);
    ctx.print(p.values.json ? json(view) : `key ${key.prefix} (${key.client}/${key.name}): rate limit ${view.rateLimit}`);
  },
};
