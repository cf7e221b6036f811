import { accessSync, constants } from 'node:fs';
import { ReamError } from '../../errors.ts';

/** Where distributions put Chromium (Debian's `chromium`, Ubuntu's `chromium-browser`), then Chrome. */
const KNOWN_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

const HOW_TO_INSTALL = 'install it (Debian/Ubuntu: apt-get install chromium) or set REAM_CHROMIUM_PATH to its executable';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The Chromium PDF reports are printed with: `REAM_CHROMIUM_PATH` when set (and then only it),
 * else the first of the usual install paths. None: `renderer_unavailable`, saying how to get one
 * — thrown before any row runs, so that `--pdf` fails fast while HTML reports still work.
 */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.REAM_CHROMIUM_PATH;
  if (configured !== undefined && configured !== '') {
    if (executable(configured)) return configured;
    throw ReamError.nonRetryable('renderer_unavailable', `PDF reports need Chromium and REAM_CHROMIUM_PATH=${configured} is not an executable: ${HOW_TO_INSTALL}`);
  }
  const found = KNOWN_PATHS.find(executable);
  if (found) return found;
  throw ReamError.nonRetryable('renderer_unavailable', `PDF reports need Chromium and none was found in ${KNOWN_PATHS.join(', ')}: ${HOW_TO_INSTALL}`);
}

export { HOW_TO_INSTALL as CHROMIUM_INSTALL_HINT };
