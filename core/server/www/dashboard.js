// The dashboard: polls GET /api/stats and /api/topics (Bearer backend token) and /metrics
// every second, draws publications and deliveries per second, watches one topic over WAMP v2
// and publishes with POST /api/publish.
//
// The token is kept in sessionStorage: it lets its holder publish anywhere and reload the
// server, so it lasts for this tab only (it survives reloading the page, not closing the tab)
// and is not shared with other tabs or left on disk by the browser as localStorage would be.
'use strict';

const POLL_MS = 1000;
const HISTORY = 120;       // seconds on the chart
const EVENTS_KEPT = 50;
const TOKEN_KEY = 'wampd.backendToken';

const $ = (id) => document.getElementById(id);
const state = {
  token: sessionStorage.getItem(TOKEN_KEY) || '',
  poller: null,
  session: null,
  watched: null,            // {topic, subscription}
  previous: null,           // the last /metrics counters, for rates
  rates: [],                // [{publications, deliveries}] per poll
};

function api(path, body) {
  const options = {headers: {Authorization: `Bearer ${state.token}`}};
  if (body !== undefined) {
    options.method = 'POST';
    options.headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  return fetch(path, options).then(async (response) => {
    const answer = await response.json().catch(() => ({}));
    if (response.status === 401) forgetToken('The server refused this token.');
    if (!response.ok) throw new Error(answer.error || `HTTP ${response.status}`);
    return answer;
  });
}

/// The counters of a Prometheus text exposition this page charts.
function counters(text) {
  const value = (name) => {
    const match = text.match(new RegExp(`^${name} (\\S+)$`, 'm'));
    return match ? Number(match[1]) : 0;
  };
  return {publications: value('wampd_publications_total'), deliveries: value('wampd_deliveries_total'),
          at: performance.now()};
}

function duration(seconds) {
  const h = Math.floor(seconds / 3600), m = Math.floor(seconds / 60) % 60, s = seconds % 60;
  return h ? `${h}h ${m}m` : m ? `${m}m ${s}s` : `${s}s`;
}

function showStats(stats) {
  $('generation').textContent = stats.generation;
  $('uptime').textContent = duration(stats.uptime_seconds);
  $('sessions').textContent = stats.sessions;
  $('sessions-by-version').textContent = `${stats.sessions_v1} / ${stats.sessions_v2}`;
  $('slow').textContent = stats.slow_subscribers_disconnected;
  const reload = stats.last_reload;
  $('reload').textContent = reload ? reload.status : 'none since start';
  $('reload').parentElement.classList.toggle('failed', Boolean(reload && !reload.ok));
}

function showTopics(routes) {
  const rows = routes.map((route) => {
    const row = document.createElement('tr');
    row.dataset.channel = route.channel;
    if (!route.handler_loaded) row.className = 'unloaded';
    for (const [text, numeric] of [[route.name], [route.channel], [route.callback],
                                   [route.subscribers_v1, true], [route.subscribers_v2, true],
                                   [route.subscribers, true]]) {
      const cell = document.createElement('td');
      cell.textContent = text;
      if (numeric) cell.className = 'n';
      row.append(cell);
    }
    return row;
  });
  $('topics').tBodies[0].replaceChildren(...rows);
}

function showRates(now) {
  if (state.previous) {
    const seconds = Math.max((now.at - state.previous.at) / 1000, 0.001);
    const rate = {publications: (now.publications - state.previous.publications) / seconds,
                  deliveries: (now.deliveries - state.previous.deliveries) / seconds};
    state.rates.push(rate);
    if (state.rates.length > HISTORY) state.rates.shift();
    $('rate-publications').textContent = rate.publications.toFixed(1);
    $('rate-deliveries').textContent = rate.deliveries.toFixed(1);
  }
  state.previous = now;
  drawChart();
}

function drawChart() {
  const canvas = $('chart');
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth, height = canvas.clientHeight;
  canvas.width = width * ratio;
  canvas.height = height * ratio;
  const g = canvas.getContext('2d');
  g.scale(ratio, ratio);
  const style = getComputedStyle(document.documentElement);
  const top = Math.max(1, ...state.rates.map((r) => Math.max(r.publications, r.deliveries)));
  const left = 44, bottom = height - 16;
  g.font = '11px system-ui, sans-serif';
  g.fillStyle = style.getPropertyValue('--muted');
  g.strokeStyle = style.getPropertyValue('--line');
  for (const fraction of [0, 0.5, 1]) {
    const y = bottom - fraction * (bottom - 8);
    g.beginPath();
    g.moveTo(left, y);
    g.lineTo(width, y);
    g.stroke();
    g.fillText((top * fraction).toFixed(top < 10 ? 1 : 0), 4, y + 4);
  }
  g.fillText(`last ${HISTORY} s`, left, height - 2);
  const step = (width - left) / (HISTORY - 1);
  for (const series of ['deliveries', 'publications']) {
    g.strokeStyle = style.getPropertyValue(`--${series}`);
    g.lineWidth = 2;
    g.beginPath();
    state.rates.forEach((rate, i) => {
      const x = left + (HISTORY - state.rates.length + i) * step;
      const y = bottom - (rate[series] / top) * (bottom - 8);
      if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
    });
    g.stroke();
  }
}

async function poll() {
  try {
    const [stats, routes, metrics] = await Promise.all([
      api('/api/stats'), api('/api/topics'), fetch('/metrics').then((r) => r.text())]);
    showStats(stats);
    showTopics(routes);
    showRates(counters(metrics));
    if (state.token) message('');
  } catch (error) {
    if (state.token) message(`Cannot reach wampd: ${error.message}`);
  }
}

function message(text) {
  $('message').textContent = text;
}

function setLink(on, text) {
  $('link').textContent = text;
  $('link').classList.toggle('on', on);
}

function wampUrl() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/${encodeURIComponent(state.token)}`;
}

function start() {
  $('token-form').hidden = true;
  $('forget').hidden = false;
  poll();
  state.poller = setInterval(poll, POLL_MS);
  state.session = new Wamp2.Session(wampUrl(), 'realm1', {
    onOpen: (id) => {
      setLink(true, `WAMP v2 session ${id}`);
      if (state.watched) watch(state.watched.topic);
    },
    onClose: (reason) => setLink(false, `WAMP: ${reason}`),
  });
}

function forgetToken(why) {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = '';
  clearInterval(state.poller);
  if (state.session) state.session.close();
  state.session = null;
  $('token-form').hidden = false;
  $('forget').hidden = true;
  setLink(false, 'not connected');
  message(why);
}

function addEvent(topic, event) {
  const item = document.createElement('li');
  item.textContent = `${new Date().toLocaleTimeString()} ${JSON.stringify(event)}`;
  $('events').prepend(item);
  while ($('events').children.length > EVENTS_KEPT) $('events').lastChild.remove();
}

async function watch(topic) {
  const session = state.session;
  if (state.watched && state.watched.subscription && session.subscriptions.has(state.watched.subscription))
    await session.unsubscribe(state.watched.subscription).catch(() => {});
  state.watched = {topic, subscription: null};
  $('events').replaceChildren();
  try {
    const id = await session.subscribe(topic, (event) => addEvent(topic, event));
    state.watched.subscription = id;
    $('watching').textContent = `Watching ${topic}`;
    $('watching').className = 'hint';
  } catch (error) {
    $('watching').textContent = `Cannot watch ${topic}: ${error.message}`;
    $('watching').className = 'hint bad';
  }
}

$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  state.token = $('token').value.trim();
  if (!state.token) return;
  $('token').value = '';
  sessionStorage.setItem(TOKEN_KEY, state.token);
  message('');
  start();
});

$('forget').addEventListener('click', () => forgetToken(''));

$('watch-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const topic = $('watch-topic').value.trim();
  if (topic && state.session) watch(topic);
});

$('publish-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const result = $('publish-result');
  let data;
  try {
    data = JSON.parse($('publish-data').value);
  } catch (error) {
    result.textContent = `The event is not JSON: ${error.message}`;
    result.className = 'hint bad';
    return;
  }
  try {
    const answer = await api('/api/publish', {topic: $('publish-topic').value.trim(), data});
    result.textContent = `Published to ${answer.recipients} recipient(s).`;
    result.className = 'hint';
  } catch (error) {
    result.textContent = `Refused: ${error.message}`;
    result.className = 'hint bad';
  }
});

if (state.token) start();
else drawChart();
