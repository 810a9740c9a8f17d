/** What of a request URL the request log may keep: scrubbed like headers, decoded first. */
import { describe, expect, it } from 'vitest';
import { loggablePath } from '../../worker/telemetry/loggable-path.js';
import { scrub } from '../../worker/log.js';

const KEY = `ath_abcdefghij_${'Ab1'.repeat(13)}X`;
/** The current, tagged form (the tag is what the key-signing secret adds). */
const TAGGED = `${KEY}_0123456789abcdef01234567`;

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

  it('redacts tagged keys whole, tag included, in paths and in every log line', () => {
    expect(loggablePath(`http://gw/x/${TAGGED}?note=${TAGGED}`)).toBe('/x/ath_abcdefghij_[redacted]?note=ath_abcdefghij_[redacted]');
    expect(scrub(`key ${TAGGED} end`)).toBe('key ath_abcdefghij_[redacted] end');
  });

  it('survives malformed escapes', () => {
    expect(loggablePath(`http://gw/%E0%A4%A/${KEY}?v=%zz`)).toBe('/%E0%A4%A/ath_abcdefghij_[redacted]?v=%zz');
  });
});
