// Interop: npm's `autobahn` (AutobahnJS 22.11.x, WAMP v2, on its own `ws`) against real wampd
// processes this test starts itself: sessions and ticket authentication, pub/sub with publisher
// exclusion, black- and whitelists and disclosure, pattern subscriptions, subscription
// revocation, RPC served by plugins and by callee clients (progressive results, cancel,
// timeout, errors, shared registrations), and v1 (npm `wamp1`) and v2 clients on one topic.
// JSON and msgpack where the serializer matters.
'use strict';

const assert = require('assert');
const fs = require('fs');
const path = require('path');

const {
  EventLog, Server, requirePackage, runScenarios, settleWithin, sleep, tempDirectory, ticketFor,
  withTimeout, writeConfig,
} = require('./harness');

// AutobahnJS warns on stderr about every closed connection, expected or not; the scenarios
// check closes themselves. (Replaced before AutobahnJS loads: it binds console.warn then.)
const warn = console.warn;
console.warn = (...args) => {
  if (/^(connection closed|auto-reconnect disabled)/.test(String(args[0]))) return;
  warn(...args);
};

const autobahn = requirePackage('autobahn');
const Wamp1 = requirePackage('wamp1');

const SERIALIZERS = {
  json: () => new autobahn.serializer.JSONSerializer(),
  msgpack: () => new autobahn.serializer.MsgpackSerializer(),
};

// Every connection a scenario opened; closed after the scenario.
const connections = [];

/// A joined autobahn session: {connection, session, details, closed}, where `closed` resolves
/// with {reason, details} when the connection ends. Rejects (with .reason and .details) when
/// the router ends the connection before WELCOME, e.g. with ABORT.
function open(url, {serializer = 'json', realm = 'realm1', authmethods, authid, ticket} = {}) {
  return withTimeout(new Promise((resolve, reject) => {
    let closedResolve;
    const closed = new Promise((r) => { closedResolve = r; });
    let opened = false;
    const options = {
      url, realm, serializers: [SERIALIZERS[serializer]()], max_retries: 0,
      retry_if_unreachable: false,
    };
    if (authmethods) options.authmethods = authmethods;
    if (authid) options.authid = authid;
    if (ticket !== undefined) options.onchallenge = () => ticket;
    const connection = new autobahn.Connection(options);
    connections.push(connection);
    connection.onopen = (session, details) => {
      opened = true;
      resolve({connection, session, details, closed});
    };
    connection.onclose = (reason, details) => {
      closedResolve({reason, details});
      if (!opened) {
        const error = new Error(`closed before WELCOME: ${reason} ${JSON.stringify(details)}`);
        error.reason = reason;
        error.details = details;
        reject(error);
      }
      return true;  // no retry
    };
    connection.open();
  }), `autobahn session on ${url}`);
}

function closeAll() {
  for (const connection of connections.splice(0)) {
    try {
      if (connection.isOpen) connection.close();
    } catch (_) {
      // already closing
    }
  }
}

/// Subscribes and records every event as {args, kwargs, details}.
async function subscribeLog(session, topic, options) {
  const log = new EventLog();
  const subscription = await withTimeout(
      session.subscribe(topic, (args, kwargs, details) => log.push({args, kwargs, details}),
                        options),
      `SUBSCRIBED for ${topic}`);
  return {log, subscription};
}

/// Publishes a fence every listed subscriber must receive, then returns each log's events
/// before the fence: the server handles a connection's messages in order, so whatever
/// the publisher sent earlier has been delivered (or not) by then.
async function eventsBeforeFence(publisher, topic, logs) {
  const fence = `fence-${Math.random()}`;
  await publisher.publish(topic, [fence], {}, {acknowledge: true, exclude_me: false});
  const before = [];
  for (const log of logs) {
    const events = await waitFor(log, (e) => e.args[0] === fence);
    before.push(events.slice(0, events.findIndex((e) => e.args[0] === fence)));
  }
  return before;
}

async function waitFor(log, predicate) {
  for (let count = 1; ; ++count) {
    const events = await log.atLeast(count);
    if (events.some(predicate)) return events;
  }
}

/// Names a scenario made for one serializer after it.
function variant(serializer, scenario) {
  Object.defineProperty(scenario, 'name', {value: `${scenario.name}[${serializer}]`});
  return scenario;
}

function topic(name) {
  return `interop.${name}.event`;
}

async function rejection(promise, what) {
  try {
    const value = await withTimeout(promise, what);
    throw new assert.AssertionError({message: `${what}: expected an error, got ` +
                                              JSON.stringify(value)});
  } catch (error) {
    if (error instanceof assert.AssertionError) throw error;
    return error;
  }
}

// ---- sessions ----

function welcome(serializer) {
  return variant(serializer, async function welcomeAnnouncesRolesAndAnonymousIdentity({server}) {
    const {session, details} = await open(server.url, {serializer});
    assert.strictEqual(typeof session.id, 'number');
    assert.ok(session.id >= 1 && session.id <= 2 ** 53, `session id ${session.id}`);
    assert.strictEqual(details.realm, 'realm1');
    assert.strictEqual(details.authrole, 'anonymous');
    assert.strictEqual(details.authmethod, 'anonymous');
    assert.strictEqual(details.authid, String(session.id));
    const broker = details.roles.broker.features;
    const dealer = details.roles.dealer.features;
    for (const feature of ['publisher_exclusion', 'subscriber_blackwhite_listing',
                           'publisher_identification']) {
      assert.strictEqual(broker[feature], true, `broker feature ${feature}`);
    }
    for (const feature of ['progressive_call_results', 'call_canceling', 'call_timeout',
                           'caller_identification', 'shared_registration']) {
      assert.strictEqual(dealer[feature], true, `dealer feature ${feature}`);
    }
    // The plugin RPC answers through this serializer.
    assert.strictEqual(await session.call('sample/sum', [2, 3]), 5);
  });
}

async function ticketAuthenticationThroughChallenge({server}) {
  const ticket = await ticketFor(server, 'john');
  const {session, details} = await open(server.url, {
    authmethods: ['ticket'], authid: 'john', ticket,
  });
  assert.strictEqual(details.authid, 'john');
  assert.strictEqual(details.authrole, 'user');
  assert.strictEqual(details.authmethod, 'ticket');
  assert.ok(session.isOpen);
}

async function badTicketIsAborted({server}) {
  // John's ticket with one character of its digest changed.
  const decoded = Buffer.from(await ticketFor(server, 'john'), 'base64');
  decoded[3] = decoded[3] === 0x41 ? 0x42 : 0x41;
  const bad = decoded.toString('base64');
  const error = await rejection(open(server.url, {authmethods: ['ticket'], authid: 'john',
                                                  ticket: bad}),
                                'a session with a bad ticket');
  assert.strictEqual(error.details.reason, 'wamp.error.authentication_failed',
                     JSON.stringify(error.details));
}

async function ticketOfAnotherUserIsAborted({server}) {
  const janes = await ticketFor(server, 'jane');
  const error = await rejection(open(server.url, {authmethods: ['ticket'], authid: 'john',
                                                  ticket: janes}),
                                "a session claiming john with jane's ticket");
  assert.strictEqual(error.details.reason, 'wamp.error.authentication_failed');
}

async function unknownRealmIsAborted({server}) {
  const error = await rejection(open(server.url, {realm: 'no.such.realm'}),
                                'a session on an unknown realm');
  assert.strictEqual(error.details.reason, 'wamp.error.no_such_realm');
}

async function configuredSecondRealmIsJoined({server}) {
  const {details} = await open(server.url, {realm: 'interop.other'});
  assert.strictEqual(details.realm, 'interop.other');
}

async function goodbyeIsAnsweredWithGoodbyeAndOut({server}) {
  const {connection, closed} = await open(server.url, {serializer: 'msgpack'});
  connection.close();
  const {reason, details} = await withTimeout(closed, 'the end of the session');
  assert.strictEqual(reason, 'closed');
  assert.strictEqual(details.reason, 'wamp.close.goodbye_and_out');
}

// ---- pub/sub ----

function publisherExclusion(serializer) {
  return variant(serializer, async function publisherIsExcludedByDefault({server}) {
    const t = topic(`exclusion-${serializer}`);
    const a = await open(server.url, {serializer});
    const b = await open(server.url, {serializer});
    const aLog = (await subscribeLog(a.session, t)).log;
    const bLog = (await subscribeLog(b.session, t)).log;
    const published = await b.session.publish(t, [{n: 1}], {}, {acknowledge: true});
    assert.ok(published.id >= 1, `publication id ${JSON.stringify(published)}`);
    await b.session.publish(t, [{n: 2}], {x: true}, {acknowledge: true, exclude_me: false});
    const [toA, toB] = await eventsBeforeFence(b.session, t, [aLog, bLog]);
    assert.deepStrictEqual(toA.map((e) => e.args), [[{n: 1}], [{n: 2}]]);
    assert.deepStrictEqual(toA[1].kwargs, {x: true});
    // exclude_me defaults to true; false lets the publisher's own event back.
    assert.deepStrictEqual(toB.map((e) => e.args), [[{n: 2}]]);
  });
}

async function sessionBlackAndWhitelists({server}) {
  const t = topic('session-lists');
  const pub = await open(server.url);
  const a = await open(server.url);
  const b = await open(server.url, {serializer: 'msgpack'});
  const c = await open(server.url);
  const logs = [];
  for (const s of [a, b, c]) logs.push((await subscribeLog(s.session, t)).log);
  await pub.session.publish(t, ['not b'], {}, {acknowledge: true, exclude: [b.session.id]});
  await pub.session.publish(t, ['only c'], {}, {acknowledge: true, eligible: [c.session.id]});
  await pub.session.publish(t, ['a and b but not b'], {}, {
    acknowledge: true, eligible: [a.session.id, b.session.id], exclude: [b.session.id],
  });
  const [toA, toB, toC] = await eventsBeforeFence(pub.session, t, logs);
  assert.deepStrictEqual(toA.map((e) => e.args[0]), ['not b', 'a and b but not b']);
  assert.deepStrictEqual(toB.map((e) => e.args[0]), []);
  assert.deepStrictEqual(toC.map((e) => e.args[0]), ['not b', 'only c']);
}

async function authidAndAuthroleLists({server}) {
  const t = topic('identity-lists');
  const john = await open(server.url, {authmethods: ['ticket'], authid: 'john',
                                       ticket: await ticketFor(server, 'john')});
  const jane = await open(server.url, {serializer: 'msgpack', authmethods: ['ticket'],
                                       authid: 'jane', ticket: await ticketFor(server, 'jane')});
  const anonymous = await open(server.url);
  const backend = await open(server.backendUrl);
  assert.strictEqual(backend.details.authrole, 'backend');
  const logs = [];
  for (const s of [john, jane, anonymous]) logs.push((await subscribeLog(s.session, t)).log);
  const publish = (label, options) =>
    backend.session.publish(t, [label], {}, {acknowledge: true, ...options});
  await publish('users only', {eligible_authrole: ['user']});
  await publish('not anonymous', {exclude_authrole: ['anonymous']});
  await publish('jane only', {eligible_authid: ['jane']});
  await publish('not john', {exclude_authid: ['john']});
  await publish('anonymous by authid', {eligible_authid: [anonymous.details.authid]});
  await publish('users but not jane', {eligible_authrole: ['user'], exclude_authid: ['jane']});
  const [toJohn, toJane, toAnonymous] = await eventsBeforeFence(backend.session, t, logs);
  assert.deepStrictEqual(toJohn.map((e) => e.args[0]),
                         ['users only', 'not anonymous', 'users but not jane']);
  assert.deepStrictEqual(toJane.map((e) => e.args[0]),
                         ['users only', 'not anonymous', 'jane only', 'not john']);
  assert.deepStrictEqual(toAnonymous.map((e) => e.args[0]), ['not john', 'anonymous by authid']);
}

function publisherDisclosure(serializer) {
  return variant(serializer, async function publisherIsDisclosedOnlyWhenAsked({server}) {
    const t = topic(`disclosure-${serializer}`);
    const john = await open(server.url, {serializer, authmethods: ['ticket'], authid: 'john',
                                         ticket: await ticketFor(server, 'john')});
    const sub = await open(server.url, {serializer});
    const {log} = await subscribeLog(sub.session, t);
    await john.session.publish(t, ['anonymous publication'], {}, {acknowledge: true});
    await john.session.publish(t, ['disclosed'], {}, {acknowledge: true, disclose_me: true});
    const [events] = await eventsBeforeFence(john.session, t, [log]);
    assert.strictEqual(events.length, 2);
    assert.strictEqual(events[0].details.publisher, undefined);
    assert.strictEqual(events[1].details.publisher, john.session.id);
    assert.strictEqual(events[1].details.publisher_authid, 'john');
    assert.strictEqual(events[1].details.publisher_authrole, 'user');
    assert.strictEqual(events[1].details.topic, t);
  });
}

// Oro's broadcast routes say `publish: backend`; the strict server's auth.default_publish
// says the same for routes that do not say.
async function publishRefusedByPolicy({server, strict}) {
  for (const [target, t] of [[server, 'oro/data/update'], [strict, topic('strict')]]) {
    const john = await open(target.url, {authmethods: ['ticket'], authid: 'john',
                                         ticket: await ticketFor(target, 'john')});
    const backend = await open(target.backendUrl);
    const {log} = await subscribeLog(john.session, t);
    const refused = await rejection(
        john.session.publish(t, [[{username: null, tagname: 'x'}]], {}, {acknowledge: true}),
        `a user's publication on ${t}`);
    assert.strictEqual(refused.error, 'wamp.error.not_authorized');
    const payload = [{username: 'admin', tagname: 'Oro\\Entity'}];
    await backend.session.publish(t, [payload], {}, {acknowledge: true});
    const events = await log.atLeast(1, 'the backend publication');
    assert.deepStrictEqual(events.map((e) => e.args), [[payload]]);
  }
}

async function unknownTopicIsAnError({server}) {
  const {session} = await open(server.url);
  const subscribeError = await rejection(session.subscribe('no/such/topic', () => {}),
                                         'a subscription no route serves');
  assert.match(subscribeError.error, /^wamp\.error\./);
  const publishError = await rejection(
      session.publish('no/such/topic', [1], {}, {acknowledge: true}),
      'a publication no route serves');
  assert.match(publishError.error, /^wamp\.error\./);
}

async function unsubscribeStopsEvents({server}) {
  const t = topic('unsubscribe');
  const pub = await open(server.url);
  const sub = await open(server.url);
  const first = await subscribeLog(sub.session, t);
  await withTimeout(sub.session.unsubscribe(first.subscription), 'UNSUBSCRIBED');
  const second = await subscribeLog(sub.session, topic('unsubscribe-fence'));
  await pub.session.publish(t, ['after unsubscribe'], {}, {acknowledge: true});
  await pub.session.publish(topic('unsubscribe-fence'), ['fence'], {}, {acknowledge: true});
  await second.log.atLeast(1);
  assert.deepStrictEqual(first.log.events, []);
}

async function patternSubscriptions({server}) {
  const sub = await open(server.url);
  const pub = await open(server.url, {serializer: 'msgpack'});
  const prefix = await subscribeLog(sub.session, 'interop.', {match: 'prefix'});
  const wildcard = await subscribeLog(sub.session, 'interop..event', {match: 'wildcard'});
  const concrete = topic('pattern-room');
  await pub.session.publish(concrete, ['to patterns'], {}, {acknowledge: true});
  for (const {log} of [prefix, wildcard]) {
    const [event] = await log.atLeast(1, 'the event through a pattern subscription');
    assert.deepStrictEqual(event.args, ['to patterns']);
    assert.strictEqual(event.details.topic, concrete);
  }
}

async function subscriptionRevocationOnReload({directory}) {
  const routing = path.join(directory, 'revocable-routing.yml');
  fs.writeFileSync(routing, `interop.revocable:
  channel: 'interop/revocable'
  handler: { callback: 'oro_sync.data_update' }
`);
  const server = await Server.start(writeConfig(directory, 'revocation', {routing: [routing]}));
  try {
    const {session} = await open(server.url);
    const {subscription} = await subscribeLog(session, 'interop/revocable');
    fs.writeFileSync(routing, '# the route is gone\n');
    server.process.kill('SIGHUP');
    const reason = await withTimeout(subscription.on_unsubscribe,
                                     'UNSUBSCRIBED (revocation) after the reload');
    assert.ok(typeof reason === 'string' && reason.includes('interop/revocable'),
              `revocation reason: ${reason}`);
    assert.strictEqual(subscription.active, false);
    // The session itself stays.
    assert.strictEqual(await session.call('sample/sum', [1, 1]), 2);
  } finally {
    closeAll();
    await server.stop();
  }
}

// ---- RPC ----

async function pluginProcedures({server}) {
  const {session} = await open(server.url, {serializer: 'msgpack'});
  assert.strictEqual(await session.call('sample/sum', [2 ** 40, 1]), 2 ** 40 + 1);
  assert.deepStrictEqual(await session.call('sample/echo', ['a', {b: [1, 2]}]),
                         ['a', {b: [1, 2]}]);
  const failed = await rejection(session.call('sample/fail'), 'sample/fail');
  assert.match(failed.error, /^wamp\.error\.|^wampd\.error\./);
  assert.ok(JSON.stringify(failed.args).includes('sample failure'), JSON.stringify(failed));
  const missing = await rejection(session.call('no.such.procedure'), 'an unknown procedure');
  assert.strictEqual(missing.error, 'wamp.error.no_such_procedure');
}

async function calleeResultsErrorsAndDisclosure({server}) {
  const callee = await open(server.url, {serializer: 'msgpack'});
  const caller = await open(server.url, {authmethods: ['ticket'], authid: 'jane',
                                         ticket: await ticketFor(server, 'jane')});
  const seen = [];
  await callee.session.register('com.interop.add', (args, kwargs, details) => {
    seen.push(details);
    if (kwargs.fail) throw new autobahn.Error('com.interop.refused', ['no', 7], {why: 'asked'});
    return new autobahn.Result([args[0] + args[1]], {kind: 'sum'});
  });
  const result = await caller.session.call('com.interop.add', [2, 3], {}, {disclose_me: true});
  assert.deepStrictEqual(result.args, [5]);
  assert.deepStrictEqual(result.kwargs, {kind: 'sum'});
  assert.strictEqual(seen[0].caller, caller.session.id);
  assert.strictEqual(seen[0].caller_authid, 'jane');
  assert.strictEqual(seen[0].caller_authrole, 'user');
  await caller.session.call('com.interop.add', [1, 1]);
  assert.strictEqual(seen[1].caller, undefined, 'the caller is disclosed only when it asks');
  const error = await rejection(caller.session.call('com.interop.add', [], {fail: true}),
                                'a call the callee fails');
  assert.strictEqual(error.error, 'com.interop.refused');
  assert.deepStrictEqual(error.args, ['no', 7]);
  assert.deepStrictEqual(error.kwargs, {why: 'asked'});
}

async function progressiveResults({server}) {
  const callee = await open(server.url);
  const caller = await open(server.url, {serializer: 'msgpack'});
  await callee.session.register('com.interop.countdown', async (args, kwargs, details) => {
    assert.ok(details.progress, 'the caller asked for progress');
    for (let i = args[0]; i > 0; --i) details.progress([i]);
    return 'liftoff';
  });
  const progress = [];
  const result = await withTimeout(new Promise((resolve, reject) => {
    caller.session.call('com.interop.countdown', [3], {}, {receive_progress: true})
        .then(resolve, reject, (p) => progress.push(p));
  }), 'the final result');
  assert.deepStrictEqual(progress, [3, 2, 1]);
  assert.strictEqual(result, 'liftoff');
}

/// A procedure whose invocations never answer; `invocations` counts them.
async function registerSilent(session, procedure) {
  const state = {invocations: 0};
  await session.register(procedure, () => {
    state.invocations += 1;
    return new Promise(() => {});
  });
  return state;
}

async function callTimeoutErrorsTheCaller({server}) {
  const callee = await open(server.url);
  const caller = await open(server.url, {serializer: 'msgpack'});
  await registerSilent(callee.session, 'com.interop.slow');
  const started = Date.now();
  const error = await rejection(caller.session.call('com.interop.slow', [], {}, {timeout: 300}),
                                'a call with a 300 ms timeout');
  assert.strictEqual(error.error, 'wamp.error.timeout');
  assert.ok(Date.now() - started >= 250, `timed out after ${Date.now() - started} ms`);
}

// AutobahnJS's callee does not announce call_canceling; the spec says the dealer then
// behaves as "skip" and sends no INTERRUPT (AutobahnJS treats one as a protocol violation and
// drops the connection).
async function calleeWithoutCancelingSurvivesTimeout({server}) {
  const callee = await open(server.url);
  const caller = await open(server.url);
  await registerSilent(callee.session, 'com.interop.slow2');
  await callee.session.register('com.interop.alive', () => 'alive');
  await rejection(caller.session.call('com.interop.slow2', [], {}, {timeout: 200}),
                  'a call that times out');
  const outcome = await settleWithin(callee.closed, 500, null);
  assert.strictEqual(outcome, null,
                     `the callee lost its connection after the timeout: ${JSON.stringify(outcome)}`);
  assert.strictEqual(await caller.session.call('com.interop.alive'), 'alive');
}

async function cancelKillOnCalleeWithoutCanceling({server}) {
  const callee = await open(server.url);
  const caller = await open(server.url, {serializer: 'msgpack'});
  await registerSilent(callee.session, 'com.interop.endless');
  await callee.session.register('com.interop.alive2', () => 'alive');
  const call = caller.session.call('com.interop.endless');
  const failed = rejection(call, 'a canceled call');
  await sleep(100);
  call.cancel({mode: 'kill'});
  const error = await failed;
  assert.strictEqual(error.error, 'wamp.error.canceled');
  const outcome = await settleWithin(callee.closed, 500, null);
  assert.strictEqual(outcome, null,
                     `the callee lost its connection after CANCEL: ${JSON.stringify(outcome)}`);
  assert.strictEqual(await caller.session.call('com.interop.alive2'), 'alive');
}

async function calleeDisconnectFailsPendingCall({server}) {
  const callee = await open(server.url);
  const caller = await open(server.url);
  const state = await registerSilent(callee.session, 'com.interop.abandoned');
  const failed = rejection(caller.session.call('com.interop.abandoned'), 'an abandoned call');
  while (state.invocations === 0) await sleep(10);
  callee.connection.close();
  const error = await failed;
  assert.strictEqual(error.error, 'wamp.error.canceled');
}

async function sharedRegistrations({server}) {
  const first = await open(server.url);
  const second = await open(server.url, {serializer: 'msgpack'});
  const caller = await open(server.url);
  for (const [s, name] of [[first, 'first'], [second, 'second']]) {
    await s.session.register('com.interop.rr', () => name, {invoke: 'roundrobin'});
    await s.session.register('com.interop.last', () => name, {invoke: 'last'});
  }
  const answers = [];
  for (let i = 0; i < 4; ++i) answers.push(await caller.session.call('com.interop.rr'));
  assert.deepStrictEqual(answers.slice().sort(), ['first', 'first', 'second', 'second']);
  assert.notStrictEqual(answers[0], answers[1]);
  assert.strictEqual(answers[0], answers[2]);
  assert.strictEqual(await caller.session.call('com.interop.last'), 'second');

  await first.session.register('com.interop.single', () => 1);
  const taken = await rejection(second.session.register('com.interop.single', () => 2),
                                'a second single registration');
  assert.strictEqual(taken.error, 'wamp.error.procedure_already_exists');
  const mixed = await rejection(
      caller.session.register('com.interop.rr', () => 3, {invoke: 'random'}),
      'a registration with another policy');
  assert.strictEqual(mixed.error, 'wamp.error.procedure_already_exists');
  const served = await rejection(caller.session.register('sample/sum', () => 0),
                                 "registering a plugin's procedure");
  assert.strictEqual(served.error, 'wamp.error.procedure_already_exists');
}

// ---- WAMP v1 and v2 on one topic ----

function openV1(url) {
  return withTimeout(new Promise((resolve, reject) => {
    const client = new Wamp1(url, () => resolve(client));
    client.on('error', reject);
    client.socket.on('error', reject);
  }), `v1 WELCOME from ${url}`);
}

// oro/data/update takes publications from the backend only: the v1 client and the msgpack
// session connect with the backend token in the URL path.
async function v1AndV2ClientsShareATopic({server}) {
  const t = 'oro/data/update';
  const v1 = await openV1(server.backendUrl);
  try {
    const v1Events = new EventLog();
    v1.subscribe(t, (event) => v1Events.push(event));
    const json = await open(server.url);
    const msgpack = await open(server.backendUrl, {serializer: 'msgpack'});
    const jsonLog = (await subscribeLog(json.session, t)).log;
    const msgpackLog = (await subscribeLog(msgpack.session, t)).log;
    // v1 has no acknowledgements: a call answered after the SUBSCRIBE proves it is in place.
    await withTimeout(new Promise((resolve) => v1.call('wampd.topics', () => resolve())),
                      'the v1 call after SUBSCRIBE');

    const fromV1 = [{username: 'admin', tagname: 'Oro\\Bundle\\UserBundle\\Entity\\User'}];
    v1.publish(t, fromV1);
    for (const log of [jsonLog, msgpackLog]) {
      const [event] = await log.atLeast(1, 'the v1 publication at a v2 subscriber');
      assert.deepStrictEqual(event.args, [fromV1]);
    }
    assert.deepStrictEqual(await v1Events.atLeast(1), [fromV1]);

    const fromV2 = [{username: null, tagname: 'Oro\\Bundle\\EmailBundle\\Entity\\Email'}];
    await msgpack.session.publish(t, [fromV2], {}, {acknowledge: true});
    assert.deepStrictEqual((await v1Events.atLeast(2))[1], fromV2);
    assert.deepStrictEqual((await jsonLog.atLeast(2))[1].args, [fromV2]);
  } finally {
    v1.socket._socket.close();
  }
}

// ---- restarts ----

/// A restart of wampd must bring auto-reconnecting sessions back by themselves: AutobahnJS
/// stops retrying for good once a router sends GOODBYE, whatever its reason.
async function reconnectsToARestartedServer({directory}) {
  let server = await Server.start(writeConfig(directory, 'restart'));
  try {
    const opens = new EventLog();
    const closes = [];
    const connection = new autobahn.Connection({
      url: server.url, realm: 'realm1', max_retries: -1, initial_retry_delay: 0.1,
      max_retry_delay: 0.3, retry_delay_growth: 1, retry_delay_jitter: 0,
    });
    connections.push(connection);
    connection.onopen = (session) => opens.push(session);
    connection.onclose = (reason, details) => { closes.push({reason, details}); };
    connection.open();
    await opens.atLeast(1, 'the first session');
    server = await server.restart();
    const [, session] = await opens.atLeast(2, 'a session with the restarted wampd');
    const stats = await withTimeout(session.call('wampd.stats'), 'wampd.stats after the restart');
    assert.strictEqual(stats.sessions_v2, 1);
    // A transport that ended with no GOODBYE (no WAMP close reason) and a retry planned.
    assert.strictEqual(closes[0].details.reason, null, JSON.stringify(closes[0]));
    assert.strictEqual(closes[0].details.will_retry, true, JSON.stringify(closes[0]));
  } finally {
    closeAll();
    await server.stop();
  }
}

// ---- the run ----

const scenarios = [
  welcome('json'), welcome('msgpack'),
  ticketAuthenticationThroughChallenge, badTicketIsAborted, ticketOfAnotherUserIsAborted,
  unknownRealmIsAborted, configuredSecondRealmIsJoined, goodbyeIsAnsweredWithGoodbyeAndOut,
  publisherExclusion('json'), publisherExclusion('msgpack'), sessionBlackAndWhitelists,
  authidAndAuthroleLists, publisherDisclosure('json'), publisherDisclosure('msgpack'),
  publishRefusedByPolicy, unknownTopicIsAnError, unsubscribeStopsEvents,
  subscriptionRevocationOnReload,
  pluginProcedures, calleeResultsErrorsAndDisclosure, progressiveResults,
  callTimeoutErrorsTheCaller, calleeWithoutCancelingSurvivesTimeout,
  cancelKillOnCalleeWithoutCanceling, calleeDisconnectFailsPendingCall, sharedRegistrations,
  v1AndV2ClientsShareATopic,
  patternSubscriptions,
  reconnectsToARestartedServer,
];
runScenarios('interop.autobahn_js', scenarios, {
  async setup() {
    const directory = tempDirectory();
    const server = await Server.start(writeConfig(directory, 'open', {
      server: {realms: ['realm1', 'interop.other']},
    }));
    const strict = await Server.start(writeConfig(directory, 'strict', {
      auth: {default_publish: 'backend'},
    }));
    return {directory, server, strict};
  },
  async afterEach() {
    closeAll();
    await sleep(50);
  },
  async teardown({server, strict}, failed) {
    if (failed) console.log(`wampd log:\n${server.log}\nwampd (strict) log:\n${strict.log}`);
    await server.stop();
    await strict.stop();
  },
});

