/** What of a request URL the request log may keep: scrubbed like headers, decoded first. */
import { describe, expect, it } from 'vitest';
import { loggablePath } from '../../worker/telemetry/loggable-path.js';

const KEY = `ath_abcdefghij_${'Ab1'.repeat(13)}X`;

describe('loggablePath', () => {
  it('keeps ordinary paths and query strings readable', () => {
    expect(loggablePath('http://gw/gateway/fetch')).toBe('/gateway/fetch');
    expect(loggablePath('http://gw/gateway/fetch?table_name=users&limit=10')).toBe('/gateway/fetch?table_name=users&limit=10');
    expect(loggablePath('http://gw/gateway/fetch?')).toBe('/gateway/fetch');
  });

  it('redacts whole keys anywhere, percent-encoded or not, and credential-named parameters', () => {
    expect(loggablePath(`http://gw/x/${KEY}`)).toBe('/x/ath_abcdefghij_[redacted]');
    expect(loggablePath(`http://gw/x/${KEY.replaceAll('_', '%5F')}`)).toBe('/x/ath_abcdefghij_[redacted]');
    expect(loggablePath(`http://gw/x?q=${KEY}&apikey=anything&X-Api-Key=k&access_token=t&flag`)).toBe(
      '/x?q=ath_abcdefghij_[redacted]&apikey=[redacted]&X-Api-Key=[redacted]&access_token=[redacted]&flag',
    );
    expect(loggablePath('http://gw/x?db=postgres://user:pw@host/db')).toBe('/x?db=postgres://[redacted]@host/db');
  });

  it('survives malformed escapes', () => {
    expect(loggablePath(`http://gw/%E0%A4%A/${KEY}?v=%zz`)).toBe('/%E0%A4%A/ath_abcdefghij_[redacted]?v=%zz');
  });
});
