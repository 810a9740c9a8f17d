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

  it('redacts whole keys anywhere, percent-encoded or not; other parameters keep only their names', () => {
    expect(loggablePath(`http://gw/x/${KEY}`)).toBe('/x/ath_abcdefghij_[redacted]');
    expect(loggablePath(`http://gw/x/${KEY.replaceAll('_', '%5F')}`)).toBe('/x/ath_abcdefghij_[redacted]');
    expect(loggablePath(`http://gw/x?q=${KEY}&apikey=anything&X-Api-Key=k&access_token=t&flag`)).toBe(
      '/x?q=[redacted]&apikey=[redacted]&X-Api-Key=[redacted]&access_token=[redacted]&flag',
    );
    expect(loggablePath('http://gw/x?columns=postgres://user:pw@host/db')).toBe('/x?columns=postgres://[redacted]@host/db');
  });

  it('keeps the values of the parameters that shape a read, and no other', () => {
    const url =
      'http://gw/gateway/fetch?table_name=todos&columns=id,title&limit=5&offset=10&sort_by=id.desc&count=exact&head=false&strip_nulls=true&view_name=todos&current_page=2&page_size=5';
    expect(loggablePath(url)).toBe(url.slice('http://gw'.length));
    expect(loggablePath('http://gw/rpc/whoami?select=id&order=id.desc&schema=app&pw=hunter2&passwd=x&user=bob')).toBe(
      '/rpc/whoami?select=id&order=id.desc&schema=app&pw=[redacted]&passwd=[redacted]&user=[redacted]',
    );
    const conditions = encodeURIComponent(JSON.stringify([{ column: 'ssn', operator: 'eq', value: '078-05-1120' }]));
    expect(loggablePath(`http://gw/gateway/fetch?table_name=people&conditions=${conditions}`)).toBe('/gateway/fetch?table_name=people&conditions=[redacted]');
  });

  it('redacts tagged keys whole, tag included, in paths and in every log line', () => {
    expect(loggablePath(`http://gw/x/${TAGGED}?columns=${TAGGED}`)).toBe('/x/ath_abcdefghij_[redacted]?columns=ath_abcdefghij_[redacted]');
    expect(scrub(`key ${TAGGED} end`)).toBe('key ath_abcdefghij_[redacted] end');
  });

  it('survives malformed escapes, and clips long names', () => {
    expect(loggablePath(`http://gw/%E0%A4%A/${KEY}?limit=%zz`)).toBe('/%E0%A4%A/ath_abcdefghij_[redacted]?limit=%zz');
    expect(loggablePath(`http://gw/x?${'n'.repeat(100)}=1`)).toBe(`/x?${'n'.repeat(64)}…=[redacted]`);
  });
});
