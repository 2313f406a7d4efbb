// The gateway connection: HELLO, IDENTIFY, heartbeats, RESUME after a drop with
// back-off and jitter, INVALID_SESSION, RECONNECT (op 7). It knows the wire protocol
// and nothing of the page; the page listens to its events.

const OP = { DISPATCH: 0, HEARTBEAT: 1, IDENTIFY: 2, RESUME: 6, RECONNECT: 7, INVALID_SESSION: 9, HELLO: 10, HEARTBEAT_ACK: 11, SEND_MESSAGE: 100, ACK: 101 };

// Close codes after which the same session cannot go on (Discord's rules): a new
// IDENTIFY follows. 4004 (a refused token) ends the connection for good.
const NEW_SESSION_CODES = new Set([4003, 4005, 4007, 4008, 4009]);
const FATAL_CODES = new Set([4004]);

export class GatewayConnection extends EventTarget {
  constructor(url, token) {
    super();
    this.url = url;
    this.token = token;
    this.sessionId = null;
    this.resumeUrl = null;
    this.sequence = null;
    this.socket = null;
    this.heartbeatTimer = null;
    this.reconnectTimer = null;
    this.identifyTimer = null;
    this.awaitingAck = false;
    this.attempt = 0;
    this.stopped = false;
  }

  /// connecting | connected | reconnecting | unauthorized
  setState(state, detail = {}) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: { state, ...detail } }));
  }

  /// Where to connect: the session's resume URL when it is this page's own origin
  /// (the page may only connect there), else the page's gateway URL.
  target() {
    if (!this.sessionId || !this.resumeUrl) return this.url;
    try {
      const resume = new URL(this.resumeUrl);
      const own = new URL(this.url);
      return resume.host === own.host && resume.protocol === own.protocol ? this.resumeUrl : this.url;
    } catch {
      return this.url;
    }
  }

  connect() {
    this.setState(this.attempt === 0 ? "connecting" : "reconnecting");
    let socket;
    try {
      socket = new WebSocket(this.target());
    } catch {
      this.resumeUrl = null; // a URL the page cannot use: the page's own from now on
      return this.closed(1006, "could not connect");
    }
    this.socket = socket;
    socket.addEventListener("message", (event) => {
      if (socket === this.socket) this.receive(event.data);
    });
    socket.addEventListener("close", (event) => {
      if (socket === this.socket) this.closed(event.code, event.reason);
    });
  }

  send(op, d) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify({ op, d }));
      return true;
    }
    return false;
  }

  /// Requests go out only on an identified session (before READY they would be 4003).
  sendMessage(channelId, content, nonce) {
    if (this.state !== "connected") return false;
    return this.send(OP.SEND_MESSAGE, { channel_id: channelId, content, nonce });
  }

  ack(channelId, messageId, manual = false, mentionCount = 0) {
    if (this.state !== "connected") return false;
    const d = { channel_id: channelId, message_id: messageId };
    if (manual) Object.assign(d, { manual: true, mention_count: mentionCount });
    return this.send(OP.ACK, d);
  }

  receive(text) {
    let payload;
    try {
      payload = JSON.parse(text);
    } catch {
      return this.drop();
    }
    if (payload.s !== null && payload.s !== undefined) this.sequence = payload.s;
    switch (payload.op) {
      case OP.HELLO:
        this.startHeartbeats(payload.d.heartbeat_interval);
        if (this.sessionId) {
          this.send(OP.RESUME, { token: this.token, session_id: this.sessionId, seq: this.sequence ?? 0 });
        } else {
          this.send(OP.IDENTIFY, { token: this.token });
        }
        break;
      case OP.HEARTBEAT_ACK:
        this.awaitingAck = false;
        break;
      case OP.HEARTBEAT:
        this.send(OP.HEARTBEAT, this.sequence);
        break;
      case OP.RECONNECT:
        // The server is going away: resume elsewhere (or here, once it is back).
        this.drop();
        break;
      case OP.INVALID_SESSION:
        if (payload.d === true && this.sessionId) {
          this.send(OP.RESUME, { token: this.token, session_id: this.sessionId, seq: this.sequence ?? 0 });
        } else {
          this.forgetSession();
          // Discord's clients wait 1-5 s before a fresh IDENTIFY (on this socket only).
          const socket = this.socket;
          clearTimeout(this.identifyTimer);
          this.identifyTimer = setTimeout(() => {
            if (socket === this.socket) this.send(OP.IDENTIFY, { token: this.token });
          }, 1000 + Math.random() * 4000);
        }
        break;
      case OP.DISPATCH:
        if (payload.t === "READY") {
          this.sessionId = payload.d.session_id;
          this.resumeUrl = payload.d.resume_gateway_url;
          this.attempt = 0;
          this.setState("connected");
        } else if (payload.t === "RESUMED") {
          this.attempt = 0;
          this.setState("connected", { resumed: true });
        }
        this.dispatchEvent(new CustomEvent("dispatch", { detail: { type: payload.t, data: payload.d } }));
        break;
    }
  }

  startHeartbeats(interval) {
    clearTimeout(this.heartbeatTimer);
    this.awaitingAck = false;
    const beat = () => {
      if (this.awaitingAck) return this.drop(); // a zombie connection: resume
      this.awaitingAck = true;
      this.send(OP.HEARTBEAT, this.sequence);
      this.heartbeatTimer = setTimeout(beat, interval);
    };
    // The first beat at a random fraction of the interval, as Discord's clients do.
    this.heartbeatTimer = setTimeout(beat, interval * Math.random());
  }

  forgetSession() {
    this.sessionId = null;
    this.resumeUrl = null;
    this.sequence = null;
  }

  /// Closes the socket and reconnects (resuming when there is a session).
  drop() {
    const socket = this.socket;
    if (socket) {
      this.socket = null;
      socket.close();
    }
    this.closed(1006, "dropped");
  }

  closed(code, reason) {
    clearTimeout(this.heartbeatTimer);
    clearTimeout(this.identifyTimer);
    this.socket = null;
    if (this.stopped) return;
    if (FATAL_CODES.has(code)) {
      this.stopped = true;
      this.forgetSession();
      this.setState("unauthorized", { code, reason });
      return;
    }
    if (NEW_SESSION_CODES.has(code)) this.forgetSession();
    // A resume URL that failed twice is not tried again: the page's own URL is.
    if (this.attempt >= 2) this.resumeUrl = null;
    // Back-off with jitter: 0.5 s doubling to 30 s, each wait between half and all of
    // it; the first within 0.5 s, so that pages told to reconnect together spread out.
    const ceiling = Math.min(30000, 500 * 2 ** Math.min(this.attempt, 6));
    const wait = this.attempt === 0 ? Math.random() * 500 : ceiling / 2 + Math.random() * (ceiling / 2);
    this.attempt += 1;
    this.setState("reconnecting", { code, reason });
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), wait);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.heartbeatTimer);
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.identifyTimer);
    if (this.socket) this.socket.close(1000);
    this.socket = null;
  }
}
