/**
 * Connection-target identity: two URLs share a budget and a tenant catalog (with its "the gateway's
 * own catalog" flag) only when the driver would connect them to the same database as the same
 * role; tenant URLs carry no query parameter but sslmode and channel_binding.
 */
import { describe, expect, it } from 'vitest';
import { buildCatalog, createCatalogCache } from '../../worker/gateway/catalog.js';
import { refusedUrlParams, targetOf } from '../../worker/db/target.js';

const base = 'postgres://app:pw@db.example:5432/tenant';

describe('target identity', () => {
  it('a query parameter the driver reads to choose where or as what it connects makes another target', () => {
    for (const query of ['host=other.example', 'options=-c%20search_path%3Dgateway', 'user=postgres', 'port=6543', 'dbname=catalog', 'application_name=x']) {
      expect(targetOf(`${base}?${query}`).key, query).not.toBe(targetOf(base).key);
    }
    expect(targetOf(`${base}?host=a`).key).not.toBe(targetOf(`${base}?host=b`).key);
  });

  it('sslmode, channel_binding and the password do not; parameter order does not either', () => {
    expect(targetOf(`${base}?sslmode=require&channel_binding=require`).key).toBe(targetOf(base).key);
    expect(targetOf(`${base}?password=other`).key).toBe(targetOf(base).key);
    expect(targetOf(`${base}?options=x&host=h`).key).toBe(targetOf(`${base}?host=h&options=x`).key);
    expect(targetOf(`${base}?password=topsecret&host=h`).key).not.toContain('topsecret');
  });

  it('the label operators see stays host:port/database, without parameters or credentials', () => {
    expect(targetOf(`${base}?host=other.example&options=x`).label).toBe('db.example:5432/tenant');
  });

  it("a catalog cached for one URL (the gateway's own catalog, say) is not answered for a URL that differs in host=", () => {
    const cache = createCatalogCache({ ttlMs: 60_000, maxTargets: 8, now: () => 0 });
    const owned = buildCatalog([{ schema_name: 'athena_gateway', table_name: 'catalog_marker', column_name: 'id', data_type: 'integer', is_pk: true }]);
    cache.set(targetOf(base).key, owned);
    expect(owned.gatewayOwned).toBe(true);
    expect(cache.get(targetOf(base).key)?.catalog.gatewayOwned).toBe(true);
    expect(cache.get(targetOf(`${base}?host=elsewhere.example`).key)).toBeUndefined();
  });
});

describe('tenant URL parameters', () => {
  it('only sslmode and channel_binding are accepted; the rest are named, sorted, once', () => {
    expect(refusedUrlParams(base)).toEqual([]);
    expect(refusedUrlParams(`${base}?sslmode=require&channel_binding=prefer`)).toEqual([]);
    expect(refusedUrlParams(`${base}?options=x&host=a&sslmode=require&host=b`)).toEqual(['host', 'options']);
    expect(refusedUrlParams(`${base}?user=postgres`)).toEqual(['user']);
  });

  it('the target carries the same verdict, worked out once with the parse', () => {
    expect(targetOf(`${base}?sslmode=require`).refusedParams).toEqual([]);
    expect(targetOf(`${base}?options=x&host=a`).refusedParams).toEqual(['host', 'options']);
  });
});
