/** This gateway's own version; bump with package.json. */
export const VERSION = '0.1.0';

/**
 * The Athena server release whose database protocol the gateway speaks. SDK 5.x reads the major
 * of `release.version` (then `version`) from `/health` and refuses servers below 4.
 */
export const ATHENA_RELEASE = { product: 'Athena', version: '5.0.0', codename: 'Edge', channel: 'stable' } as const;
