// A small WAMP v2 client (JSON serializer, subscriber role only): what the dashboard needs to
// watch a topic's events. The session is the backend's: wampd takes the backend token as the
// last segment of the WebSocket URL's path (as Oro's backend DSN carries it).
'use strict';

const Wamp2 = (() => {
  const HELLO = 1, WELCOME = 2, ABORT = 3, GOODBYE = 6, ERROR = 8;
  const SUBSCRIBE = 32, SUBSCRIBED = 33, UNSUBSCRIBE = 34, UNSUBSCRIBED = 35, EVENT = 36;

  class Session {
    /// `handlers`: onOpen(sessionId), onClose(reason), reconnecting 2 s after a lost connection
    /// until close() is called.
    constructor(url, realm, handlers) {
      this.url = url;
      this.realm = realm;
      this.handlers = handlers;
      this.nextRequest = 1;
      this.pending = new Map();        // request id -> {resolve, reject}
      this.subscriptions = new Map();  // subscription id -> callback(event, details)
      this.closing = false;
      this.connect();
    }

    connect() {
      this.ws = new WebSocket(this.url, ['wamp.2.json']);
      this.ws.onopen = () => this.send([HELLO, this.realm, {roles: {subscriber: {}}}]);
      this.ws.onmessage = (e) => this.receive(JSON.parse(e.data));
      this.ws.onclose = (e) => {
        for (const {reject} of this.pending.values()) reject(new Error('connection lost'));
        this.pending.clear();
        this.subscriptions.clear();
        this.handlers.onClose(e.reason || `connection closed (${e.code})`);
        if (!this.closing) this.retry = setTimeout(() => this.connect(), 2000);
      };
    }

    send(message) {
      this.ws.send(JSON.stringify(message));
    }

    request(message) {
      const id = this.nextRequest++;
      message.splice(1, 0, id);
      return new Promise((resolve, reject) => {
        this.pending.set(id, {resolve, reject});
        this.send(message);
      });
    }

    receive(message) {
      const [type] = message;
      if (type === WELCOME) {
        this.id = message[1];
        this.handlers.onOpen(this.id);
      } else if (type === ABORT || type === GOODBYE) {
        this.handlers.onClose(message[2]);
        if (type === GOODBYE && !this.closing) this.send([GOODBYE, {}, 'wamp.close.goodbye_and_out']);
      } else if (type === EVENT) {
        const callback = this.subscriptions.get(message[1]);
        // The payload: a single argument, the argument list, or the keyword arguments.
        const args = message[4] || [];
        const event = args.length === 1 ? args[0] : (message[5] || args);
        if (callback) callback(event, message[3]);
      } else if (type === SUBSCRIBED || type === UNSUBSCRIBED) {
        this.settle(message[1], (p) => p.resolve(message[2]));
      } else if (type === ERROR) {
        this.settle(message[2], (p) => p.reject(new Error(`${message[4]} ${JSON.stringify(message[5] || [])}`)));
      }
    }

    settle(id, how) {
      const pending = this.pending.get(id);
      if (!pending) return;
      this.pending.delete(id);
      how(pending);
    }

    async subscribe(topic, callback) {
      const id = await this.request([SUBSCRIBE, {}, topic]);
      this.subscriptions.set(id, callback);
      return id;
    }

    async unsubscribe(id) {
      this.subscriptions.delete(id);
      await this.request([UNSUBSCRIBE, id]);
    }

    close() {
      this.closing = true;
      clearTimeout(this.retry);
      if (this.ws.readyState === WebSocket.OPEN) this.send([GOODBYE, {}, 'wamp.close.close_realm']);
      else this.ws.close();
    }
  }

  return {Session};
})();
