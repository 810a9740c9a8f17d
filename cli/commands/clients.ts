/** `clients add|list|set`: tenants of the gateway and their policy. */
import { z } from 'zod';
import { booleanText, chosenRateLimit, clientName, enforcement, parseFlags, postgresUrl, rateLimitText, validate } from '../args.js';
import { addClient, listClients, updateClient } from '../client-store.js';
import { withCatalog, type Command } from '../context.js';
import { UsageError } from '../errors.js';
import { clientTable, clientView, json } from '../output.js';

const ADD_HELP = `Usage: npm run gateway -- clients add <name> [flags]

Adds a client (tenant). Flags:
  --database-url <url>     its tenant database (default: none, the worker uses TENANT_DATABASE_URL)
  --enforcement <mode>     required | optional | default (default: default = API_KEY_ENFORCEMENT_DEFAULT)
  --active <bool>          true | false (default: true)
  --frozen <bool>          true | false (default: false; frozen clients are refused)
  --rate-limit <n/period>  default limit of its keys, e.g. 100/10s or 600/1m (default: none)
  --block                  refuse every request of its keys (a limit of 0)
  --json                   print the client as JSON`;

const LIST_HELP = `Usage: npm run gateway -- clients list [--json]

Lists clients. Database URLs are shown without credentials.`;

const SET_HELP = `Usage: npm run gateway -- clients set <name> [flags]

Changes a client; flags not given stay as they are. Flags:
  --database-url <url|none>  its tenant database (none: fall back to TENANT_DATABASE_URL)
  --enforcement <mode>       required | optional | default
  --active <bool>            true | false
  --frozen <bool>            true | false
  --rate-limit <n/period|none>  default limit of its keys without one of their own, e.g. 100/10s
                             (periods 1s to 60s; all such keys share one window); none removes it
  --block                    refuse every request of those keys (a limit of 0; needs this flag)
  --json                     print the client as JSON
The worker picks up changes within AUTH_POLICY_CACHE_TTL_MS.`;

const policyFlags = {
  'database-url': { type: 'string' },
  enforcement: { type: 'string' },
  active: { type: 'string' },
  frozen: { type: 'string' },
  'rate-limit': { type: 'string' },
  block: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

const one = (what: string) => z.array(z.string()).length(1, `expects exactly one ${what}`).transform((a) => a[0] ?? '');

const addSchema = z.object({
  positionals: one('client name').pipe(clientName),
  databaseUrl: postgresUrl.optional(),
  enforcement: enforcement.default(null),
  active: booleanText.default(true),
  frozen: booleanText.default(false),
  rateLimit: rateLimitText.optional(),
  block: z.boolean().optional(),
  json: z.boolean().default(false),
});

const setSchema = z.object({
  positionals: one('client name').pipe(clientName),
  databaseUrl: z.union([z.literal('none').transform(() => null), postgresUrl]).optional(),
  enforcement: enforcement.optional(),
  active: booleanText.optional(),
  frozen: booleanText.optional(),
  rateLimit: rateLimitText.optional(),
  block: z.boolean().optional(),
  json: z.boolean().default(false),
});

const asInput = (p: { values: Record<string, unknown>; positionals: string[] }) => ({
  positionals: p.positionals,
  databaseUrl: p.values['database-url'],
  enforcement: p.values.enforcement,
  active: p.values.active,
  frozen: p.values.frozen,
  rateLimit: p.values['rate-limit'],
  block: p.values.block,
  json: p.values.json,
});

export const clientsAdd: Command = {
  summary: 'add a client (tenant)',
  help: ADD_HELP,
  async run(argv, ctx) {
    const help = 'clients add --help';
    const a = validate(addSchema, asInput(parseFlags(argv, policyFlags, help)), help);
    const row = await withCatalog(ctx, (db) =>
      addClient(db, { name: a.positionals, databaseUrl: a.databaseUrl ?? null, enforcement: a.enforcement, active: a.active, frozen: a.frozen, rateLimit: chosenRateLimit(a.rateLimit, a.block, help) ?? null }),
    );
    ctx.print(a.json ? json(clientView(row)) : `added client ${row.clientName}\n${clientTable([row])}`);
  },
};

export const clientsList: Command = {
  summary: 'list clients',
  help: LIST_HELP,
  async run(argv, ctx) {
    const help = 'clients list --help';
    const p = parseFlags(argv, { json: { type: 'boolean' } }, help);
    if (p.positionals.length > 0) throw new UsageError(`unexpected argument "${p.positionals[0]}"`, help);
    const rows = await withCatalog(ctx, (db) => listClients(db));
    ctx.print(p.values.json ? json(rows.map(clientView)) : clientTable(rows));
  },
};

export const clientsSet: Command = {
  summary: 'change a client: database URL, active/frozen, key enforcement, rate limit',
  help: SET_HELP,
  async run(argv, ctx) {
    const help = 'clients set --help';
    const a = validate(setSchema, asInput(parseFlags(argv, policyFlags, help)), help);
    const changes = { databaseUrl: a.databaseUrl, enforcement: a.enforcement, active: a.active, frozen: a.frozen, rateLimit: chosenRateLimit(a.rateLimit, a.block, help) };
    if (Object.values(changes).every((v) => v === undefined)) {
      throw new UsageError('nothing to change: give at least one of --database-url, --enforcement, --active, --frozen, --rate-limit, --block', help);
    }
    const row = await withCatalog(ctx, (db) => updateClient(db, a.positionals, changes));
    ctx.print(a.json ? json(clientView(row)) : `updated client ${row.clientName}\n${clientTable([row])}`);
  },
};
