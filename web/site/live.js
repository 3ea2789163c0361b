// The live event feed: GET /api/v1/events/stream read with fetch() and a stream reader, its
// Server-Sent Events parsed here. EventSource cannot send an Authorization header, and a token in
// the query string would end up in logs and history, so the token goes in the header as on every
// other call. On a dropped connection it reconnects after the last id it saw, waiting 1 s, then
// twice as long each time up to 30 s; a 401 ends it (the token was revoked or expired).
'use strict';

const LiveFeed = (() => {
  // Calls onEvent(id, event) for each event of a stream body; heartbeats (no id) are skipped.
  async function readEvents(reader, onEvent) {
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const {value, done} = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, {stream: true});
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let id = null, data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) id = Number(line.slice(4));
          else if (line.startsWith('data: ')) data += line.slice(6);
        }
        if (id === null || !data) continue;  // a heartbeat
        onEvent(id, JSON.parse(data));
      }
    }
  }

  // Follows the feed until `signal` aborts or the token is gone. `token()` and `after()` are read
  // at each (re)connection; onOpen, onDown and onUnauthorized tell the page how it stands.
  async function follow({token, after, signal, onOpen, onEvent, onDown, onUnauthorized}) {
    let delay = 1000;
    while (!signal.aborted && token()) {
      try {
        const r = await fetch('/api/v1/events/stream?after=' + after(), {
          headers: {Authorization: 'Bearer ' + token(), Accept: 'text/event-stream'},
          signal, cache: 'no-store'});
        if (r.status === 401) return onUnauthorized();
        if (!r.ok || !r.body) throw new Error(String(r.status));
        onOpen();
        delay = 1000;
        await readEvents(r.body.getReader(), onEvent);
      } catch (e) {
        if (signal.aborted) return;
      }
      onDown();
      await new Promise((res) => setTimeout(res, delay));
      delay = Math.min(delay * 2, 30000);
    }
  }

  return {follow};
})();
