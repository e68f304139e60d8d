// Interop: a real browser's WebSocket (Debian's chromium, driven by npm's playwright-core)
// speaking WAMP v1 as Oro's admin pages do, across a restart of wampd on the same port. The
// page reconnects only after a close that is not clean, as Oro's AutobahnJS 0.8 client does
// (it reports a clean close, whatever its code, as CONNECTION_CLOSED and never retries).
'use strict';

const assert = require('assert');
const http = require('http');

const {
  Server, requirePackage, runScenarios, tempDirectory, wampctl, withTimeout, writeConfig,
} = require('./harness');

const {chromium} = requirePackage('playwright-core');

const CHROMIUM = '/usr/bin/chromium';
const WAIT_MS = 10000;

/// The page: one WAMP v1 connection that subscribes to oro/maintenance after each WELCOME
/// and, like Oro's, retries after a non-clean close (Oro waits 2 s; this waits 0.2 s).
function pageHtml(wampUrl) {
  return `<!doctype html><title>wampd restart</title><script>
window.welcomes = []; window.closes = []; window.events = [];
function connect() {
  const ws = new WebSocket(${JSON.stringify(wampUrl)}, 'wamp');
  ws.onmessage = (e) => {
    const message = JSON.parse(e.data);
    if (message[0] === 0) {
      window.welcomes.push(message[1]);
      ws.send(JSON.stringify([5, 'oro/maintenance']));
      ws.send(JSON.stringify([2, 'subscribed', 'wampd.topics']));
    } else if (message[0] === 3 && message[1] === 'subscribed') {
      window.subscribed = window.welcomes.length;
    } else if (message[0] === 8) {
      window.events.push(message[2]);
    }
  };
  ws.onclose = (e) => {
    window.closes.push({code: e.code, wasClean: e.wasClean});
    if (!e.wasClean) setTimeout(connect, 200);
  };
}
connect();
</script>`;
}

/// Serves `html` at / on a loopback port; resolves with the server and its URL.
function servePage(html) {
  return new Promise((resolve) => {
    const server = http.createServer((request, response) => {
      response.writeHead(200, {'Content-Type': 'text/html; charset=utf-8'});
      response.end(html);
    });
    server.listen(0, '127.0.0.1', () => {
      resolve({server, url: `http://127.0.0.1:${server.address().port}/`});
    });
  });
}

async function maintenance(server, state) {
  const done = await wampctl('--config', server.configFile, '--url', server.url, 'maintenance',
                             state);
  assert.strictEqual(done.code, 0, `wampctl maintenance ${state}: ${done.stderr}`);
}

async function pageReconnectsToARestartedServer(context) {
  const page = await context.browser.newPage();
  const site = await servePage(pageHtml(context.server.url));
  try {
    await page.goto(site.url);
    await page.waitForFunction(() => window.subscribed === 1, null, {timeout: WAIT_MS});
    await maintenance(context.server, 'on');
    await page.waitForFunction(() => window.events.length === 1, null, {timeout: WAIT_MS});

    context.server = await context.server.restart();
    await page.waitForFunction(() => window.closes.length >= 1, null, {timeout: WAIT_MS});
    const closes = await page.evaluate(() => window.closes);
    assert.deepStrictEqual(closes[0], {code: 1006, wasClean: false});

    await page.waitForFunction(() => window.subscribed === 2, null, {timeout: WAIT_MS});
    const welcomes = await page.evaluate(() => window.welcomes);
    assert.notStrictEqual(welcomes[1], welcomes[0]);
    await maintenance(context.server, 'off');
    await page.waitForFunction(() => window.events.length === 2, null, {timeout: WAIT_MS});
    const events = await page.evaluate(() => window.events);
    assert.strictEqual(events[1].isOn, false);
  } finally {
    await page.close();
    await new Promise((resolve) => site.server.close(resolve));
  }
}

runScenarios('interop.chromium_restart', [pageReconnectsToARestartedServer], {
  async setup() {
    const directory = tempDirectory();
    const server = await Server.start(writeConfig(directory, 'chromium'));
    const browser = await withTimeout(
        chromium.launch({executablePath: CHROMIUM, args: ['--no-sandbox']}), 'chromium to start',
        30000);
    return {directory, server, browser};
  },
  async teardown(context, failed) {
    if (failed) console.log(`wampd log:\n${context.server.log}`);
    await context.browser.close();
    await context.server.stop();
  },
});
