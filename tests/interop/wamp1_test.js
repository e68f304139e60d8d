// Interop: npm's `wamp1` client (a WAMP v1 client nobody here wrote, on `ws`) against a real
// wampd this test starts itself. Paths come from the environment ctest sets
// (tests/interop/CMakeLists.txt). Plain assert; exits non-zero on any failure.
'use strict';

const assert = require('assert');
const childProcess = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const OVERALL_TIMEOUT_MS = 60000;
const STEP_TIMEOUT_MS = 10000;

const {freePort, requirePackage, sleep, withTimeout} = require('./harness');

const Wamp = requirePackage('wamp1');

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

// The bundled plugins and routes plus the `sample` fixture plugin (sample/{method} RPC).
function writeConfig(directory) {
  const config = {
    server: {host: '127.0.0.1', port: 8080},
    log_level: 'debug',
    plugins: {directories: [path.join(buildDir, 'plugins'), path.join(fixturePluginDir, 'sample')]},
    routing: [
      path.join(sourceDir, 'plugins', 'ping', 'routing.yml'),
      path.join(sourceDir, 'plugins', 'broadcast', 'routing.yml'),
      path.join(fixturePluginDir, 'sample-routing', 'routing.yml'),
    ],
    parameters: {'oro_sync.websocket_ping.interval': 50},
  };
  const file = path.join(directory, 'wampd.yml');
  // JSON is YAML.
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

class Server {
  constructor(configFile, port) {
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
    this.exit.then(() => { this.exited = true; });
  }

  get url() {
    return `ws://127.0.0.1:${this.port}/`;
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

  async stop() {
    if (!this.exited) this.process.kill('SIGTERM');
    const result = await withTimeout(this.exit, 'wampd to exit after SIGTERM', 5000);
    assert.strictEqual(result.signal, null, `wampd died of ${result.signal}:\n${this.log}`);
    assert.strictEqual(result.code, 0, `wampd exited with ${result.code}:\n${this.log}`);
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

function connect(url) {
  return withTimeout(new Promise((resolve, reject) => {
    const client = new Wamp(url, (welcome) => resolve({client, welcome}));
    client.on('error', reject);
    client.socket.on('error', reject);
  }), `WELCOME from ${url}`);
}

function call(client, procedure, ...args) {
  return withTimeout(new Promise((resolve) => {
    client.call(procedure, ...args, (error, result) => resolve({error, result}));
  }), `answer to the call of ${procedure}`);
}

// ---- the scenarios ----

async function publishedEventReachesSubscriber(server) {
  const {client} = await connect(server.url);
  try {
    const received = new Promise((resolve) => client.subscribe('oro/data/update', resolve));
    // The server handles one connection's messages in order: once this call is answered,
    // the subscription is in place.
    const barrier = await call(client, 'wampd.topics');
    assert.ifError(barrier.error);

    const payload = [{username: 'admin', tagname: 'x'}];
    const published = await wampctl('--url', server.url, 'publish', 'oro/data/update',
                                    JSON.stringify(payload));
    assert.strictEqual(published.code, 0, `wampctl publish failed: ${published.stderr}`);
    const event = await withTimeout(received, 'the EVENT on oro/data/update');
    assert.deepStrictEqual(event, payload);
  } finally {
    client.socket._socket.close();
  }
}

async function callReturnsResult(server) {
  const {client} = await connect(server.url);
  try {
    const {error, result} = await call(client, 'sample/sum', 2, 3);
    assert.ifError(error);
    assert.strictEqual(result, 5);
  } finally {
    client.socket._socket.close();
  }
}

async function callErrorReachesCallback(server) {
  const {client} = await connect(server.url);
  try {
    const {error, result} = await call(client, 'sample/fail');
    assert.ok(error instanceof Error, `expected a CALLERROR, got result ${JSON.stringify(result)}`);
    assert.strictEqual(typeof error.uri, 'string');
    assert.ok(error.uri.length > 0);
    const described = `${error.message} ${JSON.stringify(error.details)}`;
    assert.ok(described.includes('sample failure'), `unexpected error: ${described}`);
  } finally {
    client.socket._socket.close();
  }
}

// Killed by the overall timeout if it is still running then.
let runningServer = null;

async function main() {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'wampd-interop-'));
  const server = new Server(writeConfig(directory), await freePort());
  runningServer = server;
  const scenarios = [publishedEventReachesSubscriber, callReturnsResult, callErrorReachesCallback];
  let passed = 0;
  let failed = 0;
  try {
    await server.waitListening();
    for (const scenario of scenarios) {
      try {
        await scenario(server);
        passed += 1;
        console.log(`ok ${scenario.name}`);
      } catch (error) {
        failed += 1;
        console.log(`FAILED ${scenario.name}: ${error.stack || error}`);
      }
    }
  } finally {
    try {
      await server.stop();
    } catch (error) {
      failed += 1;
      console.log(`FAILED shutdown: ${error.message}`);
    }
    fs.rmSync(directory, {recursive: true, force: true});
  }
  if (failed) console.log(`wampd log:\n${server.log}`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0;
}

const overall = setTimeout(() => {
  console.error(`interop test still running after ${OVERALL_TIMEOUT_MS} ms`);
  if (runningServer && !runningServer.exited) runningServer.process.kill('SIGKILL');
  process.exit(1);
}, OVERALL_TIMEOUT_MS);

main().then((ok) => {
  clearTimeout(overall);
  process.exit(ok ? 0 : 1);
}, (error) => {
  clearTimeout(overall);
  console.error(error.stack || error);
  process.exit(1);
});
