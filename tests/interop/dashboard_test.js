// The dashboard (GET /dashboard) in a real browser: Debian's chromium driven by npm's
// playwright-core. The page loads, takes the backend token, shows a topic's WAMP v1
// subscriber count go up when a v1 client subscribes, shows an event `wampctl` publishes
// (its own WAMP v2 subscription), and its publish form reaches a WAMP v1 subscriber.
//
// With DASHBOARD_SCREENSHOT=FILE it also publishes a while for the chart and saves a
// screenshot there (docs/dashboard.png is made so; see the README's Dashboard section).
'use strict';

const assert = require('assert');

const {
  BACKEND_TOKEN, EventLog, Server, requirePackage, runScenarios, sleep, tempDirectory, wampctl,
  withTimeout, writeConfig,
} = require('./harness');

const {chromium} = requirePackage('playwright-core');
const WebSocket = requirePackage('ws');

const CHROMIUM = '/usr/bin/chromium';
const WAIT_MS = 10000;
const TOPIC = 'oro/maintenance';

/// A WAMP v1 client (as Oro's pages speak it) subscribed to `topic`; resolves once the
/// server has taken the subscription (a call answered after it).
async function v1Subscriber(url, topic) {
  const ws = new WebSocket(url, 'wamp');
  const events = new EventLog();
  let answered;
  const subscribed = new Promise((resolve) => { answered = resolve; });
  ws.on('message', (data) => {
    const message = JSON.parse(data);
    if (message[0] === 0) {
      ws.send(JSON.stringify([5, topic]));
      ws.send(JSON.stringify([2, 'subscribed', 'wampd.stats']));
    } else if (message[0] === 3 && message[1] === 'subscribed') {
      answered();
    } else if (message[0] === 8 && message[1] === topic) {
      events.push(message[2]);
    }
  });
  await withTimeout(subscribed, `a WAMP v1 subscription to ${topic}`);
  return {ws, events};
}

/// The topics table's cells of the route whose channel is `channel`: {v1, v2, all}.
function subscriberCells(page, channel) {
  return page.evaluate((wanted) => {
    const row = document.querySelector(`#topics tr[data-channel="${wanted}"]`);
    if (!row) return null;
    const cells = [...row.cells].map((cell) => cell.textContent);
    return {v1: Number(cells[3]), v2: Number(cells[4]), all: Number(cells[5])};
  }, channel);
}

async function dashboardShowsAndPublishes(context) {
  const {server, browser} = context;
  const page = await browser.newPage({viewport: {width: 1100, height: 900}});
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  try {
    await page.goto(`http://127.0.0.1:${server.port}/dashboard`);
    assert.strictEqual(await page.title(), 'wampd dashboard');
    // Nothing is shown before the token: the data is the backend's.
    assert.strictEqual(await page.textContent('#generation'), '–');

    await page.fill('#token', BACKEND_TOKEN);
    await page.click('#token-form button');
    await page.waitForFunction(() => /^WAMP v2 session \d+$/.test(
        document.getElementById('link').textContent), null, {timeout: WAIT_MS});
    await page.waitForFunction(() => document.getElementById('generation').textContent === '1',
                               null, {timeout: WAIT_MS});
    assert.strictEqual(await page.evaluate(() => sessionStorage.getItem('wampd.backendToken')),
                       BACKEND_TOKEN);
    assert.strictEqual(await page.isVisible('#token-form'), false);
    assert.strictEqual(await page.isVisible('#forget'), true);
    assert.deepStrictEqual(await subscriberCells(page, TOPIC), {v1: 0, v2: 0, all: 0});

    // The page watches the topic over its own WAMP v2 session: the v2 count goes up.
    await page.fill('#watch-topic', TOPIC);
    await page.click('#watch-form button');
    await page.waitForFunction(() => document.getElementById('watching').textContent ===
                               'Watching oro/maintenance', null, {timeout: WAIT_MS});
    await page.waitForFunction(
        (c) => document.querySelector(`#topics tr[data-channel="${c}"]`).cells[4].textContent === '1',
        TOPIC, {timeout: WAIT_MS});

    // A WAMP v1 client subscribes: the v1 count goes up.
    const subscriber = await v1Subscriber(server.url, TOPIC);
    context.sockets.push(subscriber.ws);
    await page.waitForFunction(
        (c) => document.querySelector(`#topics tr[data-channel="${c}"]`).cells[3].textContent === '1',
        TOPIC, {timeout: WAIT_MS});
    assert.deepStrictEqual(await subscriberCells(page, TOPIC), {v1: 1, v2: 1, all: 2});

    // wampctl publishes: the event shows in the page's list (and reaches the v1 client).
    const published = await wampctl('--config', server.configFile, '--url', server.url,
                                    'maintenance', 'on', '--user-id', '42');
    assert.strictEqual(published.code, 0, published.stderr);
    await page.waitForFunction(() => [...document.querySelectorAll('#events li')].some(
        (li) => li.textContent.endsWith('{"isOn":true,"userId":42}')), null, {timeout: WAIT_MS});
    await subscriber.events.atLeast(1, 'the wampctl event at the v1 subscriber');

    // The page's form publishes (POST /api/publish): the v1 subscriber receives it.
    await page.fill('#publish-topic', TOPIC);
    await page.fill('#publish-data', '{"isOn": false, "userId": 7, "from": "dashboard"}');
    await page.click('#publish-form button');
    await page.waitForFunction(() => document.getElementById('publish-result').textContent ===
                               'Published to 2 recipient(s).', null, {timeout: WAIT_MS});
    const events = await subscriber.events.atLeast(2, 'the dashboard event at the v1 subscriber');
    assert.deepStrictEqual(events[1], {isOn: false, userId: 7, from: 'dashboard'});
    await page.waitForFunction(() => document.querySelectorAll('#events li').length === 2, null,
                               {timeout: WAIT_MS});

    assert.deepStrictEqual(problems, []);
    // A refusal is shown, not swallowed (the browser logs its 404 too).
    await page.fill('#publish-topic', 'no/such/route');
    await page.click('#publish-form button');
    await page.waitForFunction(() => document.getElementById('publish-result').textContent
        .startsWith('Refused: no route matches'), null, {timeout: WAIT_MS});

    // The chart's rates come from /metrics deltas: the publications above were counted.
    await page.waitForFunction(() => state.rates.some((r) => r.publications > 0) &&
                               state.rates.some((r) => r.deliveries > 0), null, {timeout: WAIT_MS});

    if (process.env.DASHBOARD_SCREENSHOT) await screenshot(context, page);
  } finally {
    await page.close();
  }
}

/// A wrong token is refused and forgotten: the form comes back with the server's word.
async function aWrongTokenIsRefused(context) {
  const page = await context.browser.newPage();
  try {
    await page.goto(`http://127.0.0.1:${context.server.port}/dashboard`);
    await page.fill('#token', 'not-the-token');
    await page.click('#token-form button');
    await page.waitForFunction(() => document.getElementById('message').textContent ===
                               'The server refused this token.', null, {timeout: WAIT_MS});
    assert.strictEqual(await page.isVisible('#token-form'), true);
    assert.strictEqual(await page.isVisible('#forget'), false);
    assert.strictEqual(await page.evaluate(() => sessionStorage.getItem('wampd.backendToken')),
                       null);
  } finally {
    await page.close();
  }
}

/// Some traffic for the chart, a reload for the status line, then the picture.
async function screenshot(context, page) {
  const {server} = context;
  const reloaded = await wampctl('--config', server.configFile, '--url', server.url, 'reload');
  assert.strictEqual(reloaded.code, 0, reloaded.stderr);
  for (let second = 0; second < 30; ++second) {
    const burst = 2 + Math.round(8 * Math.abs(Math.sin(second / 4)));
    const started = Date.now();
    for (let i = 0; i < burst; ++i) {
      await wampctl('--config', server.configFile, '--url', server.url, 'publish', TOPIC,
                    JSON.stringify({isOn: false, userId: second * 100 + i}));
    }
    await sleep(Math.max(0, 1000 - (Date.now() - started)));
  }
  await page.fill('#publish-topic', TOPIC);
  await page.fill('#publish-data', '{"isOn": true, "userId": 7}');
  await page.click('#publish-form button');
  await page.waitForFunction(() => document.getElementById('publish-result').textContent ===
                             'Published to 2 recipient(s).', null, {timeout: WAIT_MS});
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({path: process.env.DASHBOARD_SCREENSHOT, fullPage: true});
  console.log(`screenshot: ${process.env.DASHBOARD_SCREENSHOT}`);
}

runScenarios('interop.dashboard', [dashboardShowsAndPublishes, aWrongTokenIsRefused], {
  async setup() {
    const directory = tempDirectory();
    const server = await Server.start(writeConfig(directory, 'dashboard'));
    const browser = await withTimeout(
        chromium.launch({executablePath: CHROMIUM, args: ['--no-sandbox']}), 'chromium to start',
        30000);
    return {directory, server, browser, sockets: []};
  },
  async teardown(context, failed) {
    if (failed) console.log(`wampd log:\n${context.server.log}`);
    for (const ws of context.sockets) ws.terminate();
    await context.browser.close();
    await context.server.stop();
  },
});
