import { describe, expect, it } from 'vitest';
import { installReport, nodeMajor, nodeVersionProblem, npmNodeVersion } from '../../dev/node-version.js';

describe('node version', () => {
  it('reads majors and npm user agents', () => {
    expect(nodeMajor('v20.20.2')).toBe(20);
    expect(nodeMajor('22.1.0')).toBe(22);
    expect(nodeMajor('nonsense')).toBe(0);
    expect(npmNodeVersion('npm/11.19.1 node/v20.20.2 linux x64 workspaces/false')).toBe('v20.20.2');
    expect(npmNodeVersion(undefined)).toBeUndefined();
  });

  it('refuses Node 20 in one line that names the fix, and accepts 22+', () => {
    const line = nodeVersionProblem('v20.20.2', 'npm run dev');
    expect(line).toMatch(/^npm run dev needs Node 22\+ .* runs on Node v20\.20\.2; start it through npm/);
    expect(line).not.toContain('\n');
    expect(nodeVersionProblem('v22.0.0', 'npm run dev')).toBeUndefined();
    expect(nodeVersionProblem('v24.3.1', 'npm test')).toBeUndefined();
  });

  it('explains EBADENGINE after an install on Node 20, says nothing on 22, warns when no Node 22 came', () => {
    expect(installReport('v22.23.3', 'v20.20.2')).toMatch(/^note: this machine's Node v20\.20\.2 runs npm only; .*Node v22\.23\.3/);
    expect(installReport('v22.23.3', 'v22.23.3')).toBeUndefined();
    expect(installReport('v20.20.2', 'v20.20.2')).toMatch(/^warning: .*needs Node 22\+/);
  });
});
