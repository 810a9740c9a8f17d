/** `clients add|list|set`: tenants of the gateway and their policy. */
import { z } from 'zod';
import { booleanText, chosenRateLimit, clientName, enforcement, postgresUrl, rateLimitText } from '../args.js';
import { helpText, parseCommand, switchFlag, valueFlag } from '../flags.js';
import { addClient, listClients, updateClient } from '../../catalog/client-store.js';
import { withCatalog, type Command } from '../context.js';
import { UsageError } from '../errors.js';
import { clientTable, clientView, json } from '../output.js';
import { refusedUrlParams, TENANT_URL_PARAMS } from '../../worker/db/target.js';

/**
 * A tenant's postgres:// URL. After "?" only sslmode and channel_binding: the driver reads every
 * query parameter (`host=` overrides the host, `options=` sets server options), and the worker
 * refuses a stored URL with any other. Names the parameters, never their values.
 */
const tenantUrl = postgresUrl.superRefine((v, ctx) => {
  const refused = refusedUrlParams(v);
  if (refused.length === 0) return;
  const names = refused
    .slice(0, 5)
    .map((n) => `"${n.slice(0, 40)}"`)
    .join(', ');
  ctx.addIssue({
    code: 'custom',
    message: `query parameter ${names} not accepted: a tenant URL may carry only ${TENANT_URL_PARAMS.join(' and ')} after "?" (put host, port, user and database in the URL itself)`,
  });
});

const one = (what: string) =>
  z
    .array(z.string())
    .length(1, `expects exactly one ${what}`)
    .transform((a) => a[0] ?? '');

const addFlags = {
  'database-url': valueFlag(
    '<url>',
    'its tenant database (default: none, the worker uses TENANT_DATABASE_URL);\nafter "?" only sslmode and channel_binding',
    tenantUrl.optional(),
  ),
  enforcement: valueFlag('<mode>', 'required | optional | default (default: default = API_KEY_ENFORCEMENT_DEFAULT)', enforcement.default(null)),
  active: valueFlag('<bool>', 'true | false (default: true)', booleanText.default(true)),
  frozen: valueFlag('<bool>', 'true | false (default: false; frozen clients are refused)', booleanText.default(false)),
  'rate-limit': valueFlag('<n/period>', 'default limit of its keys, e.g. 100/10s or 600/1m (default: none)', rateLimitText.optional()),
  block: switchFlag('refuse every request of its keys (a limit of 0)'),
  json: switchFlag('print the client as JSON'),
};

const setFlags = {
  'database-url': valueFlag(
    '<url|none>',
    'its tenant database (none: fall back to TENANT_DATABASE_URL);\nafter "?" only sslmode and channel_binding',
    z.union([z.literal('none').transform(() => null), tenantUrl]).optional(),
  ),
  enforcement: valueFlag('<mode>', 'required | optional | default', enforcement.optional()),
  active: valueFlag('<bool>', 'true | false', booleanText.optional()),
  frozen: valueFlag('<bool>', 'true | false', booleanText.optional()),
  'rate-limit': valueFlag(
    '<n/period|none>',
    'default limit of its keys without one of their own, e.g. 100/10s\n(periods 1s to 60s; all such keys share one window); none removes it',
    rateLimitText.optional(),
  ),
  block: switchFlag('refuse every request of those keys (a limit of 0; needs this flag)'),
  json: switchFlag('print the client as JSON'),
};

const addSpec = { helpCommand: 'clients add --help', positionals: one('client name').pipe(clientName), flags: addFlags };
const setSpec = { helpCommand: 'clients set --help', positionals: one('client name').pipe(clientName), flags: setFlags };
const listSpec = {
  helpCommand: 'clients list --help',
  positionals: z.array(z.string()).superRefine((a, ctx) => {
    if (a.length > 0) ctx.addIssue({ code: 'custom', message: `unexpected argument "${a[0]}"` });
  }),
  flags: { json: switchFlag('print the clients as JSON') },
};

export const clientsAdd: Command = {
  summary: 'add a client (tenant)',
  help: helpText({ usage: 'npm run gateway -- clients add <name> [flags]', about: 'Adds a client (tenant).', flags: addSpec.flags }),
  async run(argv, ctx) {
    const a = parseCommand(argv, addSpec);
    const rateLimit = chosenRateLimit(a.rateLimit, a.block, addSpec.helpCommand) ?? null;
    const row = await withCatalog(ctx, (db) =>
      addClient(db, { name: a.positionals, databaseUrl: a.databaseUrl ?? null, enforcement: a.enforcement, active: a.active, frozen: a.frozen, rateLimit }),
    );
    ctx.print(a.json ? json(clientView(row)) : `added client ${row.clientName}\n${clientTable([row])}`);
  },
};

export const clientsList: Command = {
  summary: 'list clients',
  help: helpText({
    usage: 'npm run gateway -- clients list [--json]',
    about: 'Lists clients. Database URLs are shown without credentials.',
    flags: listSpec.flags,
  }),
  async run(argv, ctx) {
    const a = parseCommand(argv, listSpec);
    const rows = await withCatalog(ctx, (db) => listClients(db));
    ctx.print(a.json ? json(rows.map(clientView)) : clientTable(rows));
  },
};

export const clientsSet: Command = {
  summary: 'change a client: database URL, active/frozen, key enforcement, rate limit',
  help: helpText({
    usage: 'npm run gateway -- clients set <name> [flags]',
    about: 'Changes a client; flags not given stay as they are.',
    flags: setSpec.flags,
    notes: `The worker picks up changes within AUTH_CHANGE_BOUND_MS (2 s; AUTH_POLICY_CACHE_TTL_MS while the
catalog's changes cannot be read).`,
  }),
  async run(argv, ctx) {
    const help = setSpec.helpCommand;
    const a = parseCommand(argv, setSpec);
    const changes = {
      databaseUrl: a.databaseUrl,
      enforcement: a.enforcement,
      active: a.active,
      frozen: a.frozen,
      rateLimit: chosenRateLimit(a.rateLimit, a.block, help),
    };
    if (Object.values(changes).every((v) => v === undefined)) {
      throw new UsageError('nothing to change: give at least one of --database-url, --enforcement, --active, --frozen, --rate-limit, --block', help);
    }
    const row = await withCatalog(ctx, (db) => updateClient(db, a.positionals, changes));
    ctx.print(a.json ? json(clientView(row)) : `updated client ${row.clientName}\n${clientTable([row])}`);
  },
};
