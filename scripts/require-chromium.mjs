// Fails fast, with the exact install line, when no Chromium is available for the
// end-to-end tests (Playwright cannot download its own browser on these machines).
import { existsSync } from 'node:fs';

// Flags that keep Chromium from phoning home: this machine has no network, and the
// tests fail on any request to a host other than the local server.
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function findChromium() {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean);
  return candidates.find((p) => existsSync(p));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const found = findChromium();
  if (!found) {
    const tried = process.env.CHROMIUM_PATH ? `CHROMIUM_PATH=${process.env.CHROMIUM_PATH}, ` : '';
    console.error(
      `No Chromium found (looked at ${tried}/usr/bin/chromium, /usr/bin/chromium-browser).\n` +
        'Install it with:\n\n    sudo apt-get install -y chromium\n\n' +
        'or point CHROMIUM_PATH at a Chromium or Chrome binary, then run the tests again.',
    );
    process.exit(1);
  }
}
