/**
 * The client side of the WebSocket protocol (API.md "WebSocket"): frames a client
 * sends, the replies it gets, and the machine codes of the error event. Pure: the
 * handlers feed it raw frames and send back what it returns.
 */

/** Frames larger than this are refused with `payload_too_large` (API Gateway allows 32 KB per frame). */
export const MAX_FRAME_BYTES = 32 * 1024;

/** Subscriptions one connection may hold. */
export const MAX_TOPICS_PER_CONNECTION = 100;

export type ClientAction = 'subscribe' | 'unsubscribe';

export interface ClientFrame {
  action: ClientAction;
  topic: unknown;
}

/** Error codes of the `{"type":"error"}` event. */
export type WsErrorCode =
  | 'invalid_request'
  | 'payload_too_large'
  | 'unknown_action'
  | 'invalid_topic'
  | 'forbidden'
  | 'wrong_election'
  | 'not_found'
  | 'too_many_subscriptions'
  | 'rate_limited'
  | 'token_expired'
  | 'token_revoked'
  | 'unknown_connection'
  | 'unavailable'
  | 'internal';

/** An error the client is told about with an error event (the connection stays open). */
export class WsError extends Error {
  constructor(
    readonly code: WsErrorCode,
    message: string,
    readonly topic?: string,
  ) {
    super(message);
    this.name = 'WsError';
  }
}

export interface SubscribedReply {
  type: 'subscribed';
  topic: string;
  /** Current state of the topic, so a late subscriber needs no history (an extension of API.md). */
  snapshot?: Record<string, unknown>;
}
export interface UnsubscribedReply {
  type: 'unsubscribed';
  topic: string;
}
export interface ErrorReply {
  type: 'error';
  code: WsErrorCode;
  message: string;
  topic?: string;
  action?: string;
}
export type Reply = SubscribedReply | UnsubscribedReply | ErrorReply;

export function errorReply(err: WsError, action?: string): ErrorReply {
  return {
    type: 'error',
    code: err.code,
    message: err.message,
    ...(err.topic === undefined ? {} : { topic: err.topic }),
    ...(action === undefined ? {} : { action }),
  };
}

/** The raw body of a WebSocket message event: text frames arrive as strings, binary ones may be bytes. */
export type RawFrame = string | Uint8Array | null | undefined;

function frameBytes(body: RawFrame, base64: boolean): Buffer {
  if (body === null || body === undefined) return Buffer.alloc(0);
  if (typeof body === 'string') return base64 ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  return Buffer.from(body);
}

/**
 * Parses one client frame: size first (before any parsing), then JSON, then shape.
 * Throws {@link WsError} with `payload_too_large`, `invalid_request` or `unknown_action`.
 */
export function parseClientFrame(body: RawFrame, isBase64Encoded = false): ClientFrame {
  const textLength = typeof body === 'string' && !isBase64Encoded ? body.length : undefined;
  // A string's UTF-8 size is at most 3 bytes per UTF-16 unit: skip encoding huge frames.
  if (textLength !== undefined && textLength > MAX_FRAME_BYTES) {
    throw new WsError('payload_too_large', `Messages are limited to ${MAX_FRAME_BYTES} bytes`);
  }
  const bytes = frameBytes(body, isBase64Encoded);
  if (bytes.length > MAX_FRAME_BYTES) {
    throw new WsError('payload_too_large', `Messages are limited to ${MAX_FRAME_BYTES} bytes`);
  }
  if (bytes.length === 0) throw new WsError('invalid_request', 'Empty message; send {"action", "topic"}');
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new WsError('invalid_request', 'Message is not valid JSON');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new WsError('invalid_request', 'Message must be a JSON object {"action", "topic"}');
  }
  const action = (parsed as Record<string, unknown>)['action'];
  if (typeof action !== 'string') {
    throw new WsError('invalid_request', 'Message needs a string "action"');
  }
  if (action !== 'subscribe' && action !== 'unsubscribe') {
    throw new WsError(
      'unknown_action',
      `Unknown action "${action.slice(0, 40)}"; use "subscribe" or "unsubscribe"`,
    );
  }
  return { action, topic: (parsed as Record<string, unknown>)['topic'] };
}
