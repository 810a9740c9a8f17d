/** `npm install`'s postinstall: one line about which Node the project's scripts will run on. */
import { installReport, npmNodeVersion } from './node-version.js';

const line = installReport(process.version, npmNodeVersion(process.env.npm_config_user_agent));
if (line) console.log(line);
