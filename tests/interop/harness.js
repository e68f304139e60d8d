// What every node interop test shares: paths from the environment ctest sets
// (tests/interop/CMakeLists.txt), server configs, a wampd process per config, Oro tickets from
// wampctl, bounded waits, and a runner that reports each scenario and fails the process on any
// failure. Plain assert; no test framework.
'use strict';

const assert = require('assert');
const childProcess = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const STEP_TIMEOUT_MS = 10000;

function requiredEnv(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is not set; run this test through ctest (scripts/test)`);
    process.exit(1);
  }
  return value;
}

const buildDir = requiredEnv('WAMPD_BUILD_DIR');
const sourceDir = requiredEnv('WAMPD_SOURCE_DIR');
const fixturePluginDir = requiredEnv('WAMPD_FIXTURE_PLUGIN_DIR');
const wampdPath = path.join(buildDir, 'bin', 'wampd');
const wampctlPath = path.join(buildDir, 'bin', 'wampctl');

/// Loads an npm package from tests/interop/node_modules, or exits with what to do about it.
function requirePackage(name) {
  try {
    return require(name);
  } catch (error) {
    console.error(`cannot load the npm package ${name} (${error.message}): ` +
                  'tests/interop/node_modules is missing or incomplete; run scripts/test ' +
                  '(it runs npm ci in tests/interop)');
    process.exit(1);
  }
}

// Ticket users (the users file of the auth config). Passwords are Oro's stored hashes.
const SECRET = 'InteropKernelSecret-3b9d71';
const USERS = {
  john: {username: 'john', id: 5, password: 'john-stored-hash-4e1f', roles: ['ROLE_USER'],
         organizations: [1]},
  jane: {username: 'jane', id: 6, password: 'jane-stored-hash-7c2a', roles: ['ROLE_USER'],
         organizations: [1]},
};
/// The backend token auth.secret implies (a URL path ending in it makes the backend).
const BACKEND_TOKEN = crypto.createHmac('sha256', SECRET).update('wampd backend').digest('hex');

/// Dotted topics for pattern subscriptions, served by the broadcast plugin's
/// oro/data/update handler: interop.<room>.event.
const DOTTED_ROUTING = `interop.dotted:
  channel: 'interop.{room}.event'
  handler: { callback: 'oro_sync.data_update' }
`;

/// The bundled plugins and routes, the `sample` fixture plugin (sample/{method} RPC,
/// sample/throwing), dotted topics, ticket users; `overrides` replace top-level keys and
/// `auth` keys.
function writeConfig(directory, name, {auth = {}, server = {}, routing = []} = {}) {
  const usersFile = path.join(directory, 'users.json');
  fs.writeFileSync(usersFile, JSON.stringify({users: Object.values(USERS)}, null, 2));
  const dotted = path.join(directory, 'dotted-routing.yml');
  fs.writeFileSync(dotted, DOTTED_ROUTING);
  const config = {
    server: {host: '127.0.0.1', port: 8080, ...server},
    log_level: 'debug',
    plugins: {directories: [path.join(buildDir, 'plugins'), path.join(fixturePluginDir, 'sample')]},
    routing: [
      path.join(sourceDir, 'plugins', 'ping', 'routing.yml'),
      path.join(sourceDir, 'plugins', 'broadcast', 'routing.yml'),
      path.join(fixturePluginDir, 'sample-routing', 'routing.yml'),
      dotted,
      ...routing,
    ],
    parameters: {'oro_sync.websocket_ping.interval': 50},
    auth: {secret: SECRET, users_file: usersFile, ...auth},
  };
  const file = path.join(directory, `${name}.yml`);
  // JSON is YAML.
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address();
      server.close(() => resolve(port));
    });
  });
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout(promise, what, ms = STEP_TIMEOUT_MS) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/// Resolves with the first value `promise` yields, or with `fallback` after `ms`: for
/// "nothing arrives" checks that must not fail on the timeout itself.
function settleWithin(promise, ms, fallback) {
  let timer;
  const late = new Promise((resolve) => { timer = setTimeout(() => resolve(fallback), ms); });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

const running = new Set();

class Server {
  constructor(configFile, port) {
    this.configFile = configFile;
    this.port = port;
    this.log = '';
    this.exit = new Promise((resolve) => {
      this.process = childProcess.spawn(wampdPath, ['--config', configFile, '--port', String(port)],
                                        {stdio: ['ignore', 'pipe', 'pipe']});
      this.process.stdout.on('data', (chunk) => { this.log += chunk; });
      this.process.stderr.on('data', (chunk) => { this.log += chunk; });
      this.process.on('error', (error) => resolve({code: null, signal: null, error}));
      this.process.on('exit', (code, signal) => resolve({code, signal}));
    });
    this.exited = false;
    this.exit.then(() => { this.exited = true; running.delete(this); });
    running.add(this);
  }

  static async start(configFile) {
    const server = new Server(configFile, await freePort());
    await server.waitListening();
    return server;
  }

  get url() {
    return `ws://127.0.0.1:${this.port}/`;
  }

  /// The URL that makes a connection the backend (auth.secret's token as the last path
  /// segment).
  get backendUrl() {
    return `ws://127.0.0.1:${this.port}/${BACKEND_TOKEN}`;
  }

  async waitListening() {
    const deadline = Date.now() + 20000;
    while (Date.now() < deadline) {
      if (this.exited) throw new Error(`wampd exited before listening:\n${this.log}`);
      const accepted = await new Promise((resolve) => {
        const socket = net.connect(this.port, '127.0.0.1');
        socket.on('connect', () => { socket.destroy(); resolve(true); });
        socket.on('error', () => resolve(false));
      });
      if (accepted) return;
      await sleep(50);
    }
    throw new Error(`wampd not listening on ${this.port} after 20 s:\n${this.log}`);
  }

  /// Waits until `text` appears in the server's log.
  async waitForLog(text, ms = 5000) {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (this.log.includes(text)) return;
      await sleep(25);
    }
    throw new Error(`${JSON.stringify(text)} not in wampd's log within ${ms} ms`);
  }

  /// Stops this server (it must exit 0) and starts another with the same config on the same
  /// port, as a restart does; resolves with the new one once it listens.
  async restart() {
    await this.stop();
    const next = new Server(this.configFile, this.port);
    await next.waitListening();
    return next;
  }

  async stop() {
    if (!this.exited) this.process.kill('SIGTERM');
    const result = await withTimeout(this.exit, 'wampd to exit after SIGTERM', 5000);
    assert.strictEqual(result.signal, null, `wampd died of ${result.signal}`);
    assert.strictEqual(result.code, 0, `wampd exited with ${result.code}`);
  }
}

function wampctl(...args) {
  return new Promise((resolve) => {
    childProcess.execFile(wampctlPath, args, {timeout: STEP_TIMEOUT_MS},
                          (error, stdout, stderr) => resolve({
                            code: error ? (error.code ?? 1) : 0, stdout, stderr,
                          }));
  });
}

/// A fresh Oro ticket (plain base64) for `username`, made by `wampctl ticket` from the
/// server's config (its auth.secret and users file).
async function ticketFor(server, username) {
  const made = await wampctl('--config', server.configFile, 'ticket', '--user', username, '--raw');
  assert.strictEqual(made.code, 0, `wampctl ticket failed: ${made.stderr}`);
  return made.stdout.trim();
}

/// WAMP ids compared as text: wampy's msgpack decoder turns 64-bit integers into BigInt.
function sameId(a, b) {
  return a !== undefined && a !== null && String(a) === String(b);
}

/// Collects events of one subscription, so a test can wait for the next one or check that
/// none came.
class EventLog {
  constructor() {
    this.events = [];
    this.waiters = [];
  }

  push(event) {
    this.events.push(event);
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /// Resolves with the events once there are at least `count`.
  async atLeast(count, what = 'events', ms = STEP_TIMEOUT_MS) {
    const deadline = Date.now() + ms;
    while (this.events.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out waiting for ${count} ${what}; got ` +
                        `${JSON.stringify(this.events, bigIntSafe)}`);
      }
      await settleWithin(new Promise((resolve) => this.waiters.push(resolve)), left, null);
    }
    return this.events;
  }
}

function bigIntSafe(_, value) {
  return typeof value === 'bigint' ? `${value}n` : value;
}

/// Runs the scenarios in order with the context `setup` made, and exits 0 only when all
/// passed. `afterEach` runs after every scenario, pass or fail; `teardown` at the end.
function runScenarios(title, scenarios,
                      {setup, teardown, afterEach = async () => {}, overallTimeoutMs = 240000}) {
  const overall = setTimeout(() => {
    console.error(`${title}: still running after ${overallTimeoutMs} ms`);
    for (const server of running) server.process.kill('SIGKILL');
    process.exit(1);
  }, overallTimeoutMs);

  async function main() {
    let passed = 0;
    let failed = 0;
    const context = await setup();
    try {
      for (const scenario of scenarios) {
        try {
          await withTimeout(scenario(context), scenario.name, 60000);
          passed += 1;
          console.log(`ok ${scenario.name}`);
        } catch (error) {
          failed += 1;
          console.log(`FAILED ${scenario.name}: ${error && error.stack ? error.stack : error}`);
        }
        await afterEach(context);
      }
    } finally {
      try {
        await teardown(context, failed > 0);
      } catch (error) {
        failed += 1;
        console.log(`FAILED teardown: ${error.stack || error}`);
      }
    }
    console.log(`${title}: ${passed} passed, ${failed} failed`);
    return failed === 0;
  }

  main().then((ok) => {
    clearTimeout(overall);
    process.exit(ok ? 0 : 1);
  }, (error) => {
    clearTimeout(overall);
    console.error(error.stack || error);
    for (const server of running) server.process.kill('SIGKILL');
    process.exit(1);
  });
}

/// A temporary directory removed at exit.
function tempDirectory() {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'wampd-interop-'));
  process.on('exit', () => fs.rmSync(directory, {recursive: true, force: true}));
  return directory;
}

module.exports = {
  BACKEND_TOKEN,
  EventLog,
  SECRET,
  Server,
  USERS,
  bigIntSafe,
  freePort,
  requirePackage,
  runScenarios,
  sameId,
  settleWithin,
  sleep,
  tempDirectory,
  ticketFor,
  wampctl,
  withTimeout,
  writeConfig,
};
