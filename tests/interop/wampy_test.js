// Interop: npm's `wampy` (Wampy.js 8.0.2, WAMP v2, on npm's `ws`) against real wampd processes
// this test starts itself: ticket authentication and refusals, GOODBYE, pub/sub black- and
// whitelists by session id, authid and authrole, pattern subscriptions, RPC with progressive
// results, cancel modes, timeout, callee errors, shared registrations, and v1 (npm `wamp1`)
// and v2 clients on one topic. JSON and msgpack (msgpackr) where the serializer matters.
'use strict';

const assert = require('assert');

const {
  EventLog, Server, bigIntSafe, requirePackage, runScenarios, sameId, settleWithin, sleep,
  tempDirectory, ticketFor, withTimeout, writeConfig,
} = require('./harness');

const {Wampy} = requirePackage('wampy');
const {MsgpackSerializer} = requirePackage('wampy/MsgpackSerializer.js');
const WebSocket = requirePackage('ws');
const Wamp1 = requirePackage('wamp1');

/// npm's ws, keeping every frame the server sent (wampy keeps no record of GOODBYE's reason)
/// and whether the connection ended.
class RecordingWebSocket extends WebSocket {
  constructor(...args) {
    super(...args);
    this.received = [];
    this.ended = new Promise((resolve) => this.addEventListener('close', resolve));
    this.addEventListener('message', (event) => this.received.push(event.data));
  }
}

const clients = [];

/// A connected wampy client (its WELCOME details in .welcome). Rejects as wampy's connect()
/// does, e.g. with an AbortError carrying errorUri.
async function connect(url, {serializer = 'json', realm = 'realm1', authid, ticket} = {}) {
  const options = {
    realm, ws: RecordingWebSocket, autoReconnect: false, uriValidation: 'loose',
  };
  if (serializer === 'msgpack') options.serializer = new MsgpackSerializer();
  if (authid) {
    options.authid = authid;
    options.authmethods = ['ticket'];
    options.onChallenge = (method) => {
      assert.strictEqual(method, 'ticket');
      return ticket;
    };
  }
  const client = new Wampy(url, options);
  clients.push(client);
  client.welcome = await withTimeout(client.connect(), `WELCOME from ${url}`);
  client.socket = client._ws;
  return client;
}

async function disconnectAll() {
  await Promise.allSettled(clients.splice(0).map(
      (client) => settleWithin(client.disconnect(), 2000, null)));
}

function topic(name) {
  return `interop.${name}.event`;
}

function variant(serializer, scenario) {
  Object.defineProperty(scenario, 'name', {value: `${scenario.name}[${serializer}]`});
  return scenario;
}

async function subscribeLog(client, uri, options) {
  const log = new EventLog();
  await withTimeout(client.subscribe(uri, (event) => log.push(event), options),
                    `SUBSCRIBED for ${uri}`);
  return log;
}

/// The events of each log before a fence `fencer` publishes once earlier publications were
/// acknowledged (wampy always asks for PUBLISHED): the server has handed those to every
/// subscriber's queue before it reads the fence.
async function eventsBeforeFence(fencer, uri, logs) {
  const fence = `fence-${Math.random()}`;
  await fencer.publish(uri, [fence]);
  const before = [];
  for (const log of logs) {
    let events;
    for (let count = 1; ; ++count) {
      events = await log.atLeast(count, 'events up to the fence');
      if (events.some((e) => e.argsList && e.argsList[0] === fence)) break;
    }
    before.push(events.slice(0, events.findIndex((e) => e.argsList[0] === fence))
        .map((e) => e.argsList[0]));
  }
  return before;
}

async function rejection(promise, what) {
  let value;
  try {
    value = await withTimeout(promise, what);
  } catch (error) {
    return error;
  }
  throw new assert.AssertionError({message: `${what}: expected an error, got ` +
                                            JSON.stringify(value, bigIntSafe)});
}

// ---- sessions ----

function welcome(serializer) {
  return variant(serializer, async function welcomeAndPluginCall({server}) {
    const client = await connect(server.url, {serializer});
    assert.strictEqual(client.socket.protocol, `wamp.2.${serializer}`);
    assert.ok(sameId(client.welcome.authid, client.getSessionId()));
    assert.strictEqual(client.welcome.authrole, 'anonymous');
    assert.strictEqual(client.welcome.roles.dealer.features.call_canceling, true);
    const result = await client.call('sample/sum', [2, 40]);
    assert.deepStrictEqual(result.argsList, [42]);
  });
}

async function ticketAuthentication({server}) {
  const client = await connect(server.url, {serializer: 'msgpack', authid: 'jane',
                                            ticket: await ticketFor(server, 'jane')});
  assert.strictEqual(client.welcome.authid, 'jane');
  assert.strictEqual(client.welcome.authrole, 'user');
  assert.strictEqual(client.welcome.authmethod, 'ticket');
}

async function badTicketAndUnknownRealmAreAborted({server}) {
  const bad = await rejection(connect(server.url, {authid: 'john', ticket: 'not-a-ticket'}),
                              'a session with a malformed ticket');
  assert.strictEqual(bad.errorUri, 'wamp.error.authentication_failed', bad.stack);
  const realm = await rejection(connect(server.url, {realm: 'nowhere'}),
                                'a session on an unknown realm');
  assert.strictEqual(realm.errorUri, 'wamp.error.no_such_realm', realm.stack);
}

async function goodbyeIsAnsweredWithGoodbyeAndOut({server}) {
  const client = await connect(server.url);
  const socket = client.socket;
  await withTimeout(client.disconnect(), 'the end of the session');
  await withTimeout(socket.ended, 'the WebSocket close');
  const goodbye = JSON.parse(socket.received[socket.received.length - 1]);
  assert.deepStrictEqual(goodbye, [6, {}, 'wamp.close.goodbye_and_out']);
}

// ---- pub/sub ----

async function identityBlackAndWhitelists({server}) {
  const t = topic('wampy-identity');
  const john = await connect(server.url, {authid: 'john', ticket: await ticketFor(server, 'john')});
  const jane = await connect(server.url, {authid: 'jane', ticket: await ticketFor(server, 'jane')});
  const anonymous = await connect(server.url);
  const backend = await connect(server.backendUrl, {serializer: 'msgpack'});
  assert.strictEqual(backend.welcome.authrole, 'backend');
  const logs = [];
  for (const client of [john, jane, anonymous]) logs.push(await subscribeLog(client, t));
  // wampy turns a single string into a one-element list.
  await backend.publish(t, ['exclude_authrole anonymous'], {exclude_authrole: 'anonymous'});
  await backend.publish(t, ['eligible_authrole user'], {eligible_authrole: ['user']});
  await backend.publish(t, ['exclude_authid john, jane'], {exclude_authid: ['john', 'jane']});
  await backend.publish(t, ['eligible_authid john'], {eligible_authid: 'john'});
  await backend.publish(t, ['eligible_authrole backend'], {eligible_authrole: 'backend'});
  const [toJohn, toJane, toAnonymous] = await eventsBeforeFence(backend, t, logs);
  assert.deepStrictEqual(toJohn, ['exclude_authrole anonymous', 'eligible_authrole user',
                                  'eligible_authid john']);
  assert.deepStrictEqual(toJane, ['exclude_authrole anonymous', 'eligible_authrole user']);
  assert.deepStrictEqual(toAnonymous, ['exclude_authid john, jane']);
}

async function sessionBlackAndWhitelists({server}) {
  const t = topic('wampy-sessions');
  const publisher = await connect(server.url);
  const a = await connect(server.url);
  const b = await connect(server.url);
  const fencer = await connect(server.url);
  const logs = [await subscribeLog(a, t), await subscribeLog(b, t),
                await subscribeLog(publisher, t)];
  await publisher.publish(t, ['not a'], {exclude: [a.getSessionId()]});
  await publisher.publish(t, ['only b'], {eligible: b.getSessionId()});
  const [toA, toB, toPublisher] = await eventsBeforeFence(fencer, t, logs);
  assert.deepStrictEqual(toA, []);
  assert.deepStrictEqual(toB, ['not a', 'only b']);
  // Publisher exclusion is on by default (and wampy cannot even send exclude_me: false).
  assert.deepStrictEqual(toPublisher, []);
}

// wampy sends SUBSCRIBE with {match: undefined, get_retained: undefined}; msgpackr packs
// `undefined` as the extension type 0 (d4 00 00) where JSON leaves the key out.
async function msgpackSubscription({server}) {
  const t = topic('wampy-msgpack-subscriber');
  const subscriber = await connect(server.url, {serializer: 'msgpack'});
  const log = await subscribeLog(subscriber, t);
  const publisher = await connect(server.url, {serializer: 'msgpack'});
  await publisher.publish(t, [2 ** 40, 'x']);
  const [event] = await log.atLeast(1, 'the event at a msgpack subscriber');
  assert.deepStrictEqual(event.argsList, [2 ** 40, 'x']);
}

// msgpackr packs a JavaScript Number above 2^32 as a float64. A session id that reached the
// publisher as a Number (from another session, over JSON) then arrives as a double. wampd may
// honour it or refuse the publication (ERROR, or ABORT as Crossbar's parser does), but must
// never ignore the entry and deliver the event to the excluded session.
async function sessionIdSentAsFloatIsNotIgnored({server}) {
  const t = topic('wampy-float-id');
  const publisher = await connect(server.url, {serializer: 'msgpack'});
  const target = await connect(server.url);
  const fencer = await connect(server.url);
  const targetLog = await subscribeLog(target, t);
  const id = Number(target.getSessionId());
  assert.ok(id > 2 ** 32, 'ids are random in [1, 2^53]; this one fits 32 bits: rerun');
  await publisher.publish(t, ['excluded by a float id'], {exclude: [id]}).catch(() => {});
  const [toTarget] = await eventsBeforeFence(fencer, t, [targetLog]);
  assert.deepStrictEqual(toTarget, [], 'an excluded session received the event');
}

async function patternSubscriptions({server}) {
  const subscriber = await connect(server.url);
  const publisher = await connect(server.url, {serializer: 'msgpack'});
  const prefix = await subscribeLog(subscriber, 'interop.wampy_pattern', {match: 'prefix'});
  const wildcard = await subscribeLog(subscriber, 'interop..event', {match: 'wildcard'});
  const concrete = topic('wampy_pattern_room');
  await publisher.publish(concrete, {kind: 'kwargs only'});
  for (const log of [prefix, wildcard]) {
    const [event] = await log.atLeast(1, 'the event through a pattern subscription');
    assert.deepStrictEqual(event.argsDict, {kind: 'kwargs only'});
    assert.strictEqual(event.details.topic, concrete);
  }
}

// ---- RPC ----

async function progressiveResults({server}) {
  const callee = await connect(server.url, {serializer: 'msgpack'});
  const caller = await connect(server.url);
  await callee.register('com.interop.wampy.steps', async ({argsList, details, result_handler}) => {
    assert.strictEqual(details.receive_progress, true);
    for (let i = 1; i <= argsList[0]; ++i) {
      result_handler({argsList: [i], options: {progress: true}});
    }
    return {argsList: ['done'], argsDict: {steps: argsList[0]}};
  });
  const progress = [];
  const result = await caller.call('com.interop.wampy.steps', [3], {
    progress_callback: ({argsList}) => progress.push(argsList[0]),
  });
  assert.deepStrictEqual(progress, [1, 2, 3]);
  assert.deepStrictEqual(result.argsList, ['done']);
  assert.deepStrictEqual(result.argsDict, {steps: 3});
}

async function calleeErrorReachesCaller({server}) {
  const callee = await connect(server.url);
  const caller = await connect(server.url, {serializer: 'msgpack'});
  await callee.register('com.interop.wampy.refuse', () => {
    const error = new Error('refused');
    error.error = 'com.interop.refused';
    error.argsList = ['not today', 3];
    error.argsDict = {retry: false};
    throw error;
  });
  const error = await rejection(caller.call('com.interop.wampy.refuse'), 'a refused call');
  assert.strictEqual(error.errorUri, 'com.interop.refused');
  assert.deepStrictEqual(error.argsList, ['not today', 3]);
  assert.deepStrictEqual(error.argsDict, {retry: false});

  const plugin = await rejection(caller.call('sample/fail'), 'sample/fail');
  assert.ok(JSON.stringify(plugin.argsList).includes('sample failure'), plugin.stack);
  const missing = await rejection(caller.call('com.interop.nobody'), 'an unregistered call');
  assert.strictEqual(missing.errorUri, 'wamp.error.no_such_procedure');
}

/// A callee whose invocations wait until `release()`; counts invocations.
async function registerBlocking(client, procedure) {
  const state = {invocations: 0, pending: []};
  await client.register(procedure, () => {
    state.invocations += 1;
    return new Promise((resolve) => state.pending.push(resolve));
  });
  await client.register(`${procedure}.alive`, () => ({argsList: ['alive']}));
  return state;
}

async function calleeStillServes(caller, procedure, callee) {
  const ended = await settleWithin(callee.socket.ended, 300, null);
  assert.strictEqual(ended, null, 'the callee lost its connection');
  const alive = await caller.call(`${procedure}.alive`);
  assert.deepStrictEqual(alive.argsList, ['alive']);
}

function cancel(mode) {
  const scenario = async function cancelCall({server}) {
    const procedure = `com.interop.wampy.cancel_${mode}`;
    const callee = await connect(server.url);
    const caller = await connect(server.url, {serializer: 'msgpack'});
    const state = await registerBlocking(callee, procedure);
    const call = caller.call(procedure, [1]);
    const requestId = caller.getOpStatus().reqId;
    const failed = rejection(call, `a call canceled with mode ${mode}`);
    while (state.invocations === 0) await sleep(10);
    assert.strictEqual(caller.cancel(requestId, {mode}), true);
    const error = await failed;
    assert.strictEqual(error.errorUri, 'wamp.error.canceled', error.stack);
    // wampy's callee does not announce call_canceling: the dealer must treat every mode as
    // "skip" and send it no INTERRUPT (which wampy answers by closing as a protocol
    // violation).
    await calleeStillServes(caller, procedure, callee);
    // The callee's late answer to the canceled invocation is dropped.
    for (const resolve of state.pending) resolve({argsList: ['late']});
    await calleeStillServes(caller, procedure, callee);
  };
  return variant(mode, scenario);
}

async function callTimeout({server}) {
  const procedure = 'com.interop.wampy.slow';
  const callee = await connect(server.url, {serializer: 'msgpack'});
  const caller = await connect(server.url);
  await registerBlocking(callee, procedure);
  const started = Date.now();
  const error = await rejection(caller.call(procedure, [], {timeout: 250}), 'a timed-out call');
  assert.strictEqual(error.errorUri, 'wamp.error.timeout', error.stack);
  assert.ok(Date.now() - started >= 200, `timed out after ${Date.now() - started} ms`);
  await calleeStillServes(caller, procedure, callee);
}

async function sharedRegistrations({server}) {
  const one = await connect(server.url);
  const two = await connect(server.url, {serializer: 'msgpack'});
  const caller = await connect(server.url);
  for (const [client, name] of [[one, 'one'], [two, 'two']]) {
    for (const invoke of ['first', 'last', 'random']) {
      await client.register(`com.interop.wampy.${invoke}`, () => ({argsList: [name]}),
                            {invoke});
    }
  }
  const answer = async (invoke) =>
    (await caller.call(`com.interop.wampy.${invoke}`)).argsList[0];
  assert.strictEqual(await answer('first'), 'one');
  assert.strictEqual(await answer('last'), 'two');
  const seen = new Set();
  for (let i = 0; i < 40 && seen.size < 2; ++i) seen.add(await answer('random'));
  assert.deepStrictEqual([...seen].sort(), ['one', 'two']);
  // The first callee leaves: "first" falls to the other.
  await one.disconnect();
  assert.strictEqual(await answer('first'), 'two');
}

// ---- WAMP v1 and v2 on one topic ----

// oro/data/update takes publications from the backend only: both publishers connect with
// the backend token in the URL path.
async function v1AndV2ClientsShareATopic({server}) {
  const t = 'oro/data/update';
  const v1 = await withTimeout(new Promise((resolve, reject) => {
    const client = new Wamp1(server.backendUrl, () => resolve(client));
    client.on('error', reject);
    client.socket.on('error', reject);
  }), 'v1 WELCOME');
  try {
    const v1Events = new EventLog();
    v1.subscribe(t, (event) => v1Events.push(event));
    const v2 = await connect(server.url);
    const v2Log = await subscribeLog(v2, t);
    await withTimeout(new Promise((resolve) => v1.call('wampd.topics', () => resolve())),
                      'the v1 call after SUBSCRIBE');
    const publisher = await connect(server.backendUrl, {serializer: 'msgpack'});
    const fromV2 = {isOn: true, userId: 7};
    // wampy sends a lone object as keyword arguments: v1 receives that object.
    await publisher.publish(t, fromV2);
    assert.deepStrictEqual(await v1Events.atLeast(1), [fromV2]);
    assert.deepStrictEqual((await v2Log.atLeast(1))[0].argsDict, fromV2);
    const fromV1 = [{username: 'admin', tagname: 'Oro\\Bundle\\UserBundle\\Entity\\User'}];
    v1.publish(t, fromV1);
    const [, second] = await v2Log.atLeast(2);
    assert.deepStrictEqual(second.argsList, [fromV1]);
  } finally {
    v1.socket._socket.close();
  }
}

// ---- restarts ----

/// A restart of wampd must bring auto-reconnecting clients back by themselves: wampy stops
/// reconnecting for good once a router sends GOODBYE, whatever its reason.
async function reconnectsToARestartedServer({directory}) {
  let server = await Server.start(writeConfig(directory, 'restart'));
  try {
    const reconnected = new EventLog();
    const client = new Wampy(server.url, {
      realm: 'realm1', ws: RecordingWebSocket, autoReconnect: true, reconnectInterval: 100,
      maxRetries: 100, uriValidation: 'loose',
      onReconnectSuccess: (details) => reconnected.push(details),
    });
    clients.push(client);
    await withTimeout(client.connect(), `WELCOME from ${server.url}`);
    const first = client.getSessionId();
    const lost = client._ws.ended;
    server = await server.restart();
    await withTimeout(lost, 'the first connection to end');
    await reconnected.atLeast(1, 'WELCOME from the restarted wampd');
    assert.ok(!sameId(client.getSessionId(), first));
    const stats = await withTimeout(client.call('wampd.stats'), 'wampd.stats after the restart');
    assert.strictEqual(stats.argsList[0].sessions_v2, 1);
  } finally {
    await disconnectAll();
    await server.stop();
  }
}

const scenarios = [
  welcome('json'), welcome('msgpack'), ticketAuthentication, badTicketAndUnknownRealmAreAborted,
  goodbyeIsAnsweredWithGoodbyeAndOut,
  identityBlackAndWhitelists, sessionBlackAndWhitelists, msgpackSubscription,
  sessionIdSentAsFloatIsNotIgnored,
  progressiveResults, calleeErrorReachesCaller, cancel('skip'), cancel('killnowait'),
  cancel('kill'), callTimeout, sharedRegistrations,
  v1AndV2ClientsShareATopic,
  patternSubscriptions,
  reconnectsToARestartedServer,
];

runScenarios('interop.wampy', scenarios, {
  async setup() {
    const directory = tempDirectory();
    const server = await Server.start(writeConfig(directory, 'open'));
    return {directory, server};
  },
  async afterEach() {
    await disconnectAll();
  },
  async teardown({server}, failed) {
    if (failed) console.log(`wampd log:\n${server.log}`);
    await server.stop();
  },
});
