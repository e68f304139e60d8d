// The benchmark's Node.js baseline: a broadcast server on the `ws` package (pinned in
// bench/package.json) speaking just enough WAMP v1 for the load client: WELCOME on open,
// SUBSCRIBE, PUBLISH -> EVENT to every subscriber (serialized once), CALL -> null result.
// Usage: node ws-server.js PORT
'use strict';
const { WebSocketServer } = require('ws');

const port = Number(process.argv[2]);
if (!port) {
  console.error('usage: node ws-server.js PORT');
  process.exit(1);
}

const topics = new Map(); // topic -> Set of sockets
let lastSession = 0;

const server = new WebSocketServer({
  host: '127.0.0.1',
  port,
  backlog: 4096,
  perMessageDeflate: false,
  handleProtocols: (protocols) => (protocols.has('wamp') ? 'wamp' : false),
});

server.on('connection', (socket) => {
  const subscribed = new Set();
  socket.send(JSON.stringify([0, String(++lastSession), 1, 'ws-baseline']));
  socket.on('message', (data) => {
    let message;
    try {
      message = JSON.parse(data);
    } catch (e) {
      return socket.close(1007);
    }
    if (!Array.isArray(message)) return;
    switch (message[0]) {
      case 5: {
        let set = topics.get(message[1]);
        if (!set) topics.set(message[1], (set = new Set()));
        set.add(socket);
        subscribed.add(message[1]);
        break;
      }
      case 7: {
        const set = topics.get(message[1]);
        if (!set) break;
        const frame = Buffer.from(JSON.stringify([8, message[1], message[2]]));
        for (const subscriber of set) subscriber.send(frame, { binary: false });
        break;
      }
      case 2:
        socket.send(JSON.stringify([3, message[1], null]));
        break;
    }
  });
  socket.on('close', () => {
    for (const topic of subscribed) {
      const set = topics.get(topic);
      if (!set) continue;
      set.delete(socket);
      if (set.size === 0) topics.delete(topic);
    }
  });
});

server.on('listening', () => console.error(`ws-baseline listening on 127.0.0.1:${port}`));
process.on('SIGTERM', () => process.exit(0));
