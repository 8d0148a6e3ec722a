// A Telegram Bot API peer for runcoach's end-to-end tests.
//
// telegram-test-api (npm) emulates the Bot API, but with gaps that make a real client fail
// (see ../../../shared/docs/chat-platform-peers.md). This file runs the emulator in-process and
// puts a small route layer in front of it that follows the official Bot API: full getMe, long
// polling, proper Message results, callback queries with chat_instance, setMyCommands, file
// upload/download (multipart), chat actions, and the error replies of blocked users and migrated
// chats, webhooks (delivered by the layer with the secret-token header), flood control (429 with
// retry_after, on demand) and server errors (5xx, on demand), edited messages and oversized documents. Every result the layer returns to the bot, and every update it delivers, is checked
// against the machine-readable Bot API description; violations are collected and served at
// GET /_peer/violations so a test can assert there are none.
//
// Usage: node peer.mjs SPEC_JSON  → prints one JSON line {"url": "http://127.0.0.1:PORT"}.

import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const TelegramServer = require('telegram-test-api');
const express = require('express');

const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const BOT_ID = 7000001;
const violations = [];

// ---- Bot API type checking -------------------------------------------------------------------

function typeOk(value, typeName, path, depth) {
  if (typeName.startsWith('Array of ')) {
    if (!Array.isArray(value)) return [`${path}: expected ${typeName}`];
    return value.flatMap((v, i) => check(v, [typeName.slice(9)], `${path}[${i}]`, depth + 1));
  }
  switch (typeName) {
    case 'Integer': return Number.isInteger(value) ? [] : [`${path}: expected Integer, got ${JSON.stringify(value)}`];
    case 'Float': return typeof value === 'number' ? [] : [`${path}: expected Float`];
    case 'String': return typeof value === 'string' ? [] : [`${path}: expected String, got ${JSON.stringify(value)}`];
    case 'Boolean': return typeof value === 'boolean' ? [] : [`${path}: expected Boolean`];
    case 'True': return value === true ? [] : [`${path}: expected True`];
    default: break;
  }
  const t = spec.types[typeName];
  if (!t) return [`${path}: unknown type ${typeName}`];
  if (t.subtypes) {
    const results = t.subtypes.map((s) => check(value, [s], path, depth + 1));
    return results.some((r) => r.length === 0) ? [] : results.reduce((a, b) => (a.length <= b.length ? a : b));
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${path}: expected ${typeName} object`];
  const errs = [];
  const fields = t.fields || [];
  for (const f of fields) {
    if (f.required && !(f.name in value)) errs.push(`${path}.${f.name}: required by ${typeName}`);
    if (f.name in value) errs.push(...check(value[f.name], f.types, `${path}.${f.name}`, depth + 1));
  }
  for (const k of Object.keys(value)) {
    if (!fields.some((f) => f.name === k)) errs.push(`${path}.${k}: not a field of ${typeName}`);
  }
  return errs;
}

function check(value, types, path, depth = 0) {
  if (depth > 12) return [];
  const results = types.map((t) => typeOk(value, t, path, depth));
  return results.some((r) => r.length === 0) ? [] : results[0];
}

function checked(method, result) {
  const returns = spec.methods[method]?.returns;
  if (returns) {
    const errs = check(result, returns.map((r) => r.replace(/^Array of /, 'Array of ')), `${method}.result`);
    if (errs.length) violations.push(...errs);
  }
  return result;
}

// ---- helpers -----------------------------------------------------------------------------------

const freePort = () => new Promise((resolve, reject) => {
  const s = net.createServer();
  s.once('error', reject);
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

const seconds = (ms) => Math.floor(ms / 1000);
const botUser = { id: BOT_ID, is_bot: true, first_name: 'Coach Michael', username: 'runcoach_test_bot' };
const ok = (res, method, result) => res.json({ ok: true, result: checked(method, result) });
const fail = (res, code, description, parameters) =>
  res.status(code).json({ ok: false, error_code: code, description, ...(parameters ? { parameters } : {}) });

// Minimal multipart/form-data parser (the emulator only reads JSON and urlencoded bodies).
function parseMultipart(buf, contentType) {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType || '');
  if (!m) return null;
  const boundary = Buffer.from(`--${m[1] || m[2]}`);
  const fields = {};
  let start = buf.indexOf(boundary);
  while (start !== -1) {
    const next = buf.indexOf(boundary, start + boundary.length);
    if (next === -1) break;
    const part = buf.subarray(start + boundary.length + 2, next - 2);
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd !== -1) {
      const headers = part.subarray(0, headerEnd).toString('utf8');
      const body = part.subarray(headerEnd + 4);
      const name = /name="([^"]*)"/i.exec(headers)?.[1];
      const filename = /filename="([^"]*)"/i.exec(headers)?.[1];
      if (name) fields[name] = filename !== undefined ? { filename, data: Buffer.from(body) } : body.toString('utf8');
    }
    start = next;
  }
  return fields;
}

// ---- state -------------------------------------------------------------------------------------

const files = new Map(); // file_id -> { data, name, mime }
let fileSeq = 1;
const commands = {}; // scope/language -> commands
const blocked = new Set(); // chat ids whose user blocked the bot
const migrated = new Map(); // chat id -> new supergroup id
const sent = []; // every message the bot sent, as returned (for the user side)
const waiting = new Set();
const floods = new Map(); // chat id -> { skip, left, retryAfter, status }: after `skip` sends, `left` fail
const getFileCalls = []; // file ids the bot asked to download
const extraUpdates = []; // updates the emulator cannot make (edited messages), delivered by the layer
const floodRefusals = []; // { chat_id, at }: when each 429 was answered
const floodAccepted = []; // { chat_id, at }: the first send accepted after a flood

function storeFile(data, name, mime) {
  const id = `file-${fileSeq++}`;
  files.set(id, { data, name, mime });
  return { file_id: id, file_unique_id: `u${id}`, file_name: name, mime_type: mime, file_size: data.length };
}

function chatOf(id) {
  const n = Number(id);
  return n < 0 ? { id: n, type: 'supergroup', title: 'Running club' } : { id: n, type: 'private', first_name: 'Runner' };
}

function recordBotMessage(token, body, extra) {
  const msg = server.addBotMessage({ ...body, ...extra }, token);
  const message = { message_id: msg.message_id, from: botUser, chat: chatOf(body.chat_id), date: seconds(Date.now()) };
  if (body.text !== undefined) message.text = String(body.text);
  if (extra.document) message.document = extra.document;
  if (extra.photo) message.photo = extra.photo;
  if (extra.caption !== undefined) message.caption = extra.caption;
  let markup = body.reply_markup;
  if (typeof markup === 'string') markup = JSON.parse(markup);
  if (markup && markup.inline_keyboard) message.reply_markup = { inline_keyboard: markup.inline_keyboard };
  sent.push({ token, message, parse_mode: body.parse_mode });
  return message;
}

// Normalises an update from the emulator to the Bot API shape before the bot sees it.
function normaliseUpdate(u) {
  if (u.callback_query) {
    const q = u.callback_query;
    q.chat_instance = q.chat_instance || `ci-${q.message?.chat?.id ?? 0}`;
    if (q.message && q.message.date > 1e11) q.message.date = seconds(q.message.date);
  }
  if (u.message) {
    delete u.message.botToken;
    if (u.message.date > 1e11) u.message.date = seconds(u.message.date);
    if (u.entities && !u.message.entities) u.message.entities = u.entities;
  }
  delete u.entities;
  const errs = check(u, ['Update'], 'update');
  if (errs.length) violations.push(...errs);
  return u;
}

// ---- webhooks ----------------------------------------------------------------------------------

const hooks = new Map(); // token -> { url, secret }
const hookDeliveries = [];
const webhookSets = []; // every setWebhook's url, in order // { token, update_id, status }

// Posts every unread update of a webhook bot to its URL, one at a time, in order. An update the
// bot does not accept (not 2xx, or no connection) stays first in line and is posted again, as
// Telegram does. A call while a pass is running asks for another pass, so no update waits for
// the next event.
const hookQueues = new Map(); // token -> updates taken from the emulator, not yet accepted
let pumping = false;
let pumpAgain = false;
async function pumpHooks() {
  if (pumping) {
    pumpAgain = true;
    return;
  }
  pumping = true;
  try {
    do {
      pumpAgain = false;
      for (const [token, hook] of hooks) {
        const queue = hookQueues.get(token) || [];
        hookQueues.set(token, queue);
        queue.push(...server.getUpdates(token).map(normaliseUpdate));
        while (queue.length && hooks.get(token) === hook) {
          const update = queue[0];
          const headers = { 'content-type': 'application/json' };
          if (hook.secret) headers['x-telegram-bot-api-secret-token'] = hook.secret;
          let status = 0;
          try {
            status = (await fetch(hook.url, { method: 'POST', headers, body: JSON.stringify(update) })).status;
          } catch { status = -1; }
          hookDeliveries.push({ token, update_id: update.update_id, status });
          if (status >= 200 && status < 300) {
            queue.shift();
          } else {
            await new Promise((resolve) => setTimeout(resolve, 200));
            pumpAgain = true;
            break;
          }
        }
      }
    } while (pumpAgain);
  } finally {
    pumping = false;
  }
}

// ---- servers -----------------------------------------------------------------------------------

const innerPort = await freePort();
const server = new TelegramServer({ port: innerPort, host: '127.0.0.1', storeTimeout: 600 });
await server.start();
for (const e of ['AddedUserMessage', 'AddedUserCommand', 'AddedUserCallbackQuery']) server.on(e, () => setImmediate(pumpHooks));

const app = express();
app.use(express.raw({ type: 'multipart/form-data', limit: '80mb' }));
app.use(express.json({ limit: '10mb' }));
app.use(express.urlencoded({ extended: true }));

app.get('/_peer/violations', (_req, res) => res.json(violations));
app.get('/_peer/hook_deliveries', (_req, res) => res.json(hookDeliveries));
app.get('/_peer/webhook_sets', (_req, res) => res.json(webhookSets));
app.get('/_peer/commands', (_req, res) => res.json(commands));
app.get('/_peer/sent', (req, res) => res.json(sent.filter((s) => !req.query.chat_id || String(s.message.chat.id) === String(req.query.chat_id))));
app.post('/_peer/block', (req, res) => { blocked.add(String(req.body.chat_id)); res.json({ ok: true }); });
app.post('/_peer/migrate', (req, res) => { migrated.set(String(req.body.chat_id), Number(req.body.to)); res.json({ ok: true }); });
app.get('/_peer/file/:id', (req, res) => {
  const f = files.get(req.params.id);
  if (!f) return res.status(404).end();
  return res.type(f.mime || 'application/octet-stream').send(f.data);
});
// After `skip` sends (default 0), the next `count` sends to a chat are refused: with 429 and
// `retry_after` (Telegram's flood control), or with `status` 5xx as the proxy in front of the Bot
// API answers when Telegram is down (an HTML page, not JSON).
app.post('/_peer/flood', (req, res) => {
  floods.set(String(req.body.chat_id), {
    skip: Number(req.body.skip || 0),
    left: Number(req.body.count || 1),
    retryAfter: Number(req.body.retry_after || 1),
    status: Number(req.body.status || 429),
  });
  res.json({ ok: true });
});
app.get('/_peer/flood_log', (_req, res) => res.json({ refused: floodRefusals, accepted: floodAccepted }));
app.get('/_peer/getfile_calls', (_req, res) => res.json(getFileCalls));
// User side: the runner edits a message they sent (the emulator has no edits).
app.post('/_peer/editMessage', (req, res) => {
  const { from, chat_id: chatId, message_id: messageId, text } = req.body;
  const now = seconds(Date.now());
  extraUpdates.push({
    // Share the emulator's counter: update ids must keep increasing (clients poll with offsets).
    update_id: server.updateId++,
    edited_message: { message_id: Number(messageId), from, chat: chatOf(chatId), date: now - 5, edit_date: now, text: String(text) },
  });
  for (const w of waiting) w();
  res.json({ ok: true });
});
// User side: a document upload from the runner (the emulator has none). `fake_size` announces
// a file of that size without its bytes (Telegram's getFile refuses files over 20 MB anyway).
app.post('/_peer/sendDocument', async (req, res) => {
  const { token, chat_id: chatId, from, file_name: name, mime_type: mime, data_base64: b64, caption, fake_size: fakeSize } = req.body;
  const document = storeFile(Buffer.from(b64 || '', 'base64'), name, mime);
  if (fakeSize) document.file_size = Number(fakeSize);
  const message = { from, chat: chatOf(chatId), date: seconds(Date.now()), document, ...(caption ? { caption } : {}) };
  await server.addUserMessage({ ...message, botToken: token });
  res.json({ ok: true });
});

// Downloads: https://api.telegram.org/file/bot<token>/<file_path>
app.get('/file/bot:token/:path(*)', (req, res) => {
  const f = files.get(req.params.path.replace(/^documents\//, ''));
  if (!f) return fail(res, 404, 'Not Found');
  return res.type('application/octet-stream').send(f.data);
});

app.all('/bot:token/:method', async (req, res, next) => {
  const { token } = req.params;
  const method = Object.keys(spec.methods).find((m) => m.toLowerCase() === req.params.method.toLowerCase()) || req.params.method;
  let body = req.body || {};
  if (Buffer.isBuffer(body)) body = parseMultipart(body, req.headers['content-type']) || {};
  const chatId = body.chat_id !== undefined ? String(body.chat_id) : undefined;
  if (chatId && blocked.has(chatId)) return fail(res, 403, 'Forbidden: bot was blocked by the user');
  const sending = ['sendMessage', 'sendPhoto', 'sendDocument', 'editMessageText'].includes(method);
  if (chatId && sending && floods.has(chatId)) {
    const f = floods.get(chatId);
    if (f.skip > 0) {
      f.skip -= 1;
    } else if (f.left > 0) {
      f.left -= 1;
      floodRefusals.push({ chat_id: chatId, at: Date.now(), method });
      if (f.status >= 500) {
        return res.status(f.status).type('text/html').send(`<html><body><h1>${f.status} Bad Gateway</h1></body></html>`);
      }
      return fail(res, 429, `Too Many Requests: retry after ${f.retryAfter}`, { retry_after: f.retryAfter });
    } else {
      floods.delete(chatId);
      floodAccepted.push({ chat_id: chatId, at: Date.now(), method });
    }
  }
  if (chatId && migrated.has(chatId)) {
    return fail(res, 400, 'Bad Request: group chat was upgraded to a supergroup chat', { migrate_to_chat_id: migrated.get(chatId) });
  }
  switch (method) {
    case 'getMe':
      return ok(res, method, { ...botUser, can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false, can_connect_to_business: false, has_main_web_app: false });
    case 'getUpdates': {
      const timeout = Math.min(Number(body.timeout || 0), 30) * 1000;
      const takeExtra = () => extraUpdates.splice(0, extraUpdates.length);
      // Updates a webhook had not accepted when it was deleted come first, as on Telegram.
      const queued = hooks.has(token) ? [] : (hookQueues.get(token) || []).splice(0);
      let updates = queued.concat(server.getUpdates(token).map(normaliseUpdate), takeExtra().map(normaliseUpdate));
      if (!updates.length && timeout > 0) {
        // Long polling: answer as soon as an update arrives, or after `timeout`.
        await new Promise((resolve) => {
          const done = () => { clearTimeout(timer); for (const e of events) server.off(e, done); waiting.delete(done); resolve(); };
          const events = ['AddedUserMessage', 'AddedUserCommand', 'AddedUserCallbackQuery'];
          const timer = setTimeout(done, timeout);
          for (const e of events) server.on(e, done);
          waiting.add(done);
        });
        updates = server.getUpdates(token).map(normaliseUpdate).concat(takeExtra().map(normaliseUpdate));
      }
      return ok(res, method, updates);
    }
    case 'sendMessage': {
      if (!body.text || String(body.text).length > 4096) return fail(res, 400, 'Bad Request: message text is empty or too long');
      return ok(res, method, recordBotMessage(token, body, {}));
    }
    case 'sendDocument':
    case 'sendPhoto': {
      const key = method === 'sendDocument' ? 'document' : 'photo';
      let input = body[key];
      // Clients may send the file as a separate part referenced by `attach://<name>`.
      if (typeof input === 'string' && input.startsWith('attach://')) input = body[input.slice(9)];
      if (!input || !input.data) return fail(res, 400, `Bad Request: there is no ${key} in the request`);
      const stored = storeFile(input.data, input.filename, key === 'photo' ? 'image/png' : 'application/octet-stream');
      const extra = key === 'document'
        ? { document: stored }
        : { photo: [{ file_id: stored.file_id, file_unique_id: stored.file_unique_id, width: 800, height: 400, file_size: stored.file_size }] };
      if (body.caption !== undefined) extra.caption = String(body.caption);
      const rest = Object.fromEntries(Object.entries(body).filter(([, v]) => typeof v === 'string' && !v.startsWith('attach://')));
      return ok(res, method, recordBotMessage(token, { ...rest, text: undefined }, extra));
    }
    case 'editMessageText': {
      server.editMessageText(body);
      const previous = sent.find((s) => String(s.message.chat.id) === chatId && s.message.message_id === Number(body.message_id));
      if (!previous) return fail(res, 400, 'Bad Request: message to edit not found');
      previous.message = { ...previous.message, text: String(body.text), edit_date: seconds(Date.now()) };
      let markup = body.reply_markup;
      if (typeof markup === 'string') markup = JSON.parse(markup);
      if (markup?.inline_keyboard) previous.message.reply_markup = { inline_keyboard: markup.inline_keyboard };
      else delete previous.message.reply_markup;
      return ok(res, method, previous.message);
    }
    case 'editMessageReplyMarkup': {
      const previous = sent.find((s) => String(s.message.chat.id) === chatId && s.message.message_id === Number(body.message_id));
      if (!previous) return fail(res, 400, 'Bad Request: message to edit not found');
      let markup = body.reply_markup;
      if (typeof markup === 'string') markup = JSON.parse(markup);
      previous.message = { ...previous.message, edit_date: seconds(Date.now()) };
      if (markup?.inline_keyboard?.length) previous.message.reply_markup = { inline_keyboard: markup.inline_keyboard };
      else delete previous.message.reply_markup;
      return ok(res, method, previous.message);
    }
    case 'getWebhookInfo':
      return ok(res, method, { url: hooks.get(token)?.url || '', has_custom_certificate: false, pending_update_count: 0 });
    case 'setWebhook': {
      // The emulator posts its own update format without the secret header: the layer delivers
      // webhook updates itself (Bot API-shaped, checked, with X-Telegram-Bot-Api-Secret-Token).
      if (!body.url) return fail(res, 400, 'Bad Request: bad webhook: An HTTPS URL must be provided for webhook');
      hooks.set(token, { url: String(body.url), secret: body.secret_token ? String(body.secret_token) : undefined });
      webhookSets.push(String(body.url));
      pumpHooks();
      return ok(res, method, true);
    }
    case 'deleteWebhook':
      hooks.delete(token);
      return ok(res, method, true);
    case 'answerCallbackQuery':
    case 'sendChatAction':
      return ok(res, method, true);
    case 'setMyCommands': {
      const scope = typeof body.scope === 'string' ? JSON.parse(body.scope) : body.scope;
      const cmds = typeof body.commands === 'string' ? JSON.parse(body.commands) : body.commands;
      const errs = check(cmds, ['Array of BotCommand'], 'setMyCommands.commands');
      if (errs.length) violations.push(...errs);
      commands[`${scope?.type || 'default'}:${body.language_code || ''}`] = cmds;
      return ok(res, method, true);
    }
    case 'getFile': {
      getFileCalls.push(String(body.file_id));
      const f = files.get(String(body.file_id));
      if (!f) return fail(res, 400, 'Bad Request: invalid file_id');
      if (f.data.length > 20 * 1024 * 1024) return fail(res, 400, 'Bad Request: file is too big');
      return ok(res, method, { file_id: String(body.file_id), file_unique_id: `u${body.file_id}`, file_size: f.data.length, file_path: `documents/${body.file_id}` });
    }
    default:
      return next();
  }
});

// Everything else (user-side routes, deleteMessage, ...) is the emulator's.
app.use((req, res) => {
  const proxied = http.request({ host: '127.0.0.1', port: innerPort, path: req.originalUrl, method: req.method, headers: { 'content-type': 'application/json' } }, (r) => {
    res.status(r.statusCode);
    r.pipe(res);
  });
  proxied.on('error', () => fail(res, 502, 'emulator unreachable'));
  proxied.end(req.body && !Buffer.isBuffer(req.body) ? JSON.stringify(req.body) : undefined);
});

const port = await freePort();
const front = app.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});

const stop = async () => { for (const w of waiting) w(); front.close(); await server.stop(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop); // the test harness closes stdin to stop the peer
process.stdin.resume();
