/** `npm run gateway -- --version`: this checkout's gateway version and the protocol release it serves. */
import type { Command } from '../context.js';
import { ATHENA_RELEASE, VERSION } from '../../worker/version.js';

export const version: Command = {
  summary: "print the gateway's version and the Athena protocol release it speaks",
  help: "Usage: npm run gateway -- --version\n\nPrints this checkout's gateway version (what /health calls gateway_version) and the Athena\nprotocol release it speaks (what /health calls version, read by SDK 5.x).",
  async run(_argv, ctx) {
    ctx.print(`athena-edge-gateway ${VERSION} (Athena protocol ${ATHENA_RELEASE.version})`);
  },
};
